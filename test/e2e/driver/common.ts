/**
 * Shared by the e2e drivers: Debian's Chromium through playwright-core (the copy run-e2e.sh
 * installs, or the project's), a results reporter whose lines run-e2e.sh counts, and waiting.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BrowserContext, FrameLocator, Page } from 'playwright-core';

const { chromium } = require(process.env.PLAYWRIGHT_CORE ?? 'playwright-core') as typeof import('playwright-core');

export const EXTENSION_ID = 'repsim.repsim';
export const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');

const started = Date.now();
export function say(message: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

/** One line per check; run-e2e.sh counts the PASS and FAIL lines. */
export class Results {
  passed = 0;
  failed = 0;

  /** `page`: screenshot it into test-artifacts/ when the check fails. */
  constructor(private readonly page?: () => Page | undefined) {}

  async check(name: string, body: () => Promise<void>): Promise<boolean> {
    const t0 = Date.now();
    try {
      await body();
      this.passed++;
      console.log(`e2e-check PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
      return true;
    } catch (error) {
      this.failed++;
      console.log(`e2e-check FAIL ${name}: ${String((error as Error)?.stack ?? error).split('\n').slice(0, 4).join('\n    ')}`);
      const page = this.page?.();
      if (page) await screenshot(page, join(ARTIFACTS, `e2e-failure-${this.failed}.png`)).catch(() => undefined);
      return false;
    }
  }
}

export async function withBrowser<T>(body: (context: BrowserContext, page: Page) => Promise<T>): Promise<T> {
  const profile = mkdtempSync(join(tmpdir(), 'chrome-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1500, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => say(`pageerror: ${error.message}`));
    return await body(context, page);
  } finally {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function screenshot(page: Page, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path });
  say(`screenshot ${path}`);
}

/** The page inside a webview of this extension: iframe.webview → iframe#active-frame. */
export function webviewFrame(page: Page, index = 0): FrameLocator {
  return page.frameLocator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"] >> nth=${index}`).frameLocator('iframe#active-frame');
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
