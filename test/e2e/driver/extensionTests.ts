/**
 * Runs RepSim's own test module inside code-server's extension host, as desktop VS Code's
 * --extensionDevelopmentPath/--extensionTestsPath would: code-server's CLI rejects those flags,
 * but the web workbench reads them from the URL's `payload` parameter and reports the result
 * through window.codeAutomationExit(code), which Playwright exposes. The module writes its
 * checks to REPSIM_E2E_MARKER (set for code-server by run-e2e.sh); they are printed here.
 * usage: node --import tsx test/e2e/driver/extensionTests.ts <port> <extension dir> <test module> <workspace> <marker>
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { say, screenshot, withBrowser } from './common.js';

const [port, extensionDir, testModule, workspace, marker] = process.argv.slice(2);
const TIMEOUT_MS = Number(process.env.E2E_EXT_TESTS_TIMEOUT_S ?? 300) * 1000;

async function main(): Promise<number> {
  const authority = `127.0.0.1:${port}`;
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${extensionDir}`],
    ['extensionTestsPath', `vscode-remote://${authority}${testModule}`],
  ];
  const url = `http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  rmSync(marker, { force: true });
  const exitCode = await withBrowser(async (_context, page) => {
    const exited = new Promise<number>((resolve) => void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code)));
    page.on('console', (message) => {
      if (message.type() === 'error') say(`browser console error: ${message.text().slice(0, 200)}`);
    });
    await page.goto(url);
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS))]);
    say(`codeAutomationExit(${code})`);
    await screenshot(page, process.env.E2E_EXT_TESTS_SHOT ?? 'test-artifacts/e2e-extension-tests.png').catch(() => undefined);
    return code;
  });
  let passed = 0;
  let failed = 0;
  if (existsSync(marker)) {
    const { results } = JSON.parse(readFileSync(marker, 'utf8')) as { results: { name: string; ok: boolean; seconds: number; error?: string }[] };
    for (const r of results) {
      if (r.ok) passed++;
      else failed++;
      console.log(r.ok ? `e2e-check PASS extension host: ${r.name} (${r.seconds.toFixed(1)}s)` : `e2e-check FAIL extension host: ${r.name}: ${(r.error ?? '').split('\n').slice(0, 4).join('\n    ')}`);
    }
  }
  if (exitCode !== 0 && failed === 0) {
    failed++;
    console.log(`e2e-check FAIL extension host: the test module did not finish cleanly (exit ${exitCode}${existsSync(marker) ? '' : ', no results written'})`);
  }
  console.log(`extension host: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.log(`e2e-check FAIL extension host driver: ${(error as Error)?.stack ?? error}`);
    process.exit(1);
  },
);
