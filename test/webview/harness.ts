/**
 * Test harness for the webview: Debian's Chromium driven by playwright-core, the real panel page
 * (the extension's buildPanelHtml, with its CSP) served from 127.0.0.1, and a stub `acquireVsCodeApi` that
 * records posted messages and get/setState. No outside network.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostMessage, WebviewMessage } from '../../src/protocol/webview.js';
import { REPORT_THEME_CSS } from '../../src/server/report/theme.js';
import { buildPanelHtml, createNonce } from '../../src/extension/panel/panelHtml.js';

export const ROOT = join(__dirname, '..', '..');
export const MEDIA = join(ROOT, 'media');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'webview');

export function loadMessages(name: string): HostMessage[] {
  return (JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as { messages: HostMessage[] }).messages;
}

export function assertBuilt(): void {
  for (const file of ['webview.js', 'codicon.css', 'codicon.ttf']) {
    if (!existsSync(join(MEDIA, file))) throw new Error(`media/${file} is missing: run \`node scripts/build.mjs\` first`);
  }
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A reason to skip the browser tests, or false. */
export const NO_CHROMIUM: string | false = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** High contrast is not part of the report's theme; the tests add VS Code's Dark High Contrast basics. */
const HIGH_CONTRAST_CSS = `body.vscode-high-contrast {
  --vscode-editor-background: #000000; --vscode-foreground: #ffffff; --vscode-descriptionForeground: #ffffff;
  --vscode-focusBorder: #f38518; --vscode-contrastBorder: #6fc3df; --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616;
  --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7; --vscode-charts-red: #f14c4c; --vscode-charts-yellow: #cca700;
}`;

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

export interface PanelServer {
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves the panel page at /?theme=vscode-dark, media/ at /media/, the test theme at /test/theme.css. */
export async function startPanelServer(): Promise<PanelServer> {
  let origin = '';
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    if (url.pathname === '/') {
      const theme = url.searchParams.get('theme') ?? 'vscode-dark';
      const page = buildPanelHtml({ cspSource: origin, nonce: createNonce(), scriptUri: `${origin}/media/webview.js`, codiconCssUri: `${origin}/media/codicon.css`, title: 'RepSim test' });
      // What VS Code adds: the theme's CSS variables (here from a stylesheet of the same origin) and the body class.
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page.replace('</head>', `<link rel="stylesheet" href="${origin}/test/theme.css">\n</head>`).replace('<body>', `<body class="${theme.replace(/[^\w-]/g, '')}">`));
      return;
    }
    if (url.pathname === '/test/theme.css') {
      response.writeHead(200, { 'content-type': 'text/css' });
      response.end(`${REPORT_THEME_CSS}\n${HIGH_CONTRAST_CSS}`);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      response.writeHead(204);
      response.end();
      return;
    }
    const file = url.pathname.startsWith('/media/') ? join(MEDIA, url.pathname.slice('/media/'.length).replace(/[^\w.-]/g, '')) : '';
    if (file && existsSync(file)) {
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(readFileSync(file));
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** What the stub VS Code API and the page recorded. */
export interface Recorded {
  posted: WebviewMessage[];
  state: unknown;
  setStateCalls: number;
  cspViolations: string[];
}

export interface PanelPage {
  readonly page: Page;
  /** Uncaught errors and console errors in the page. */
  readonly errors: string[];
  recorded(): Promise<Recorded>;
  /** Delivers host messages the way VS Code does (window message events) and waits for the panel to settle. */
  send(messages: readonly unknown[]): Promise<void>;
  settle(): Promise<void>;
}

/**
 * A page that records its errors, console errors, requests leaving `allowedOrigin` (data: URLs
 * aside) and CSP violations (in `window.__cspViolations`).
 */
export async function newTestPage(browser: Browser, allowedOrigin: string, options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 1000, height: options.height ?? 900 }, deviceScaleFactor: 1, colorScheme: options.colorScheme });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => {
    requests.push(request.url());
    if (!request.url().startsWith(allowedOrigin) && !request.url().startsWith('data:')) errors.push(`outside request: ${request.url()}`);
  });
  // tsx compiles with esbuild's keepNames, which wraps named functions in __name(): functions
  // passed to page.evaluate carry such calls, so the page needs the helper too.
  await page.addInitScript({ content: 'globalThis.__name = (target) => target;' });
  await page.addInitScript(() => {
    const violations: string[] = [];
    Object.assign(window, { __cspViolations: violations });
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`));
  });
  return { page, errors, requests };
}

export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
}

export async function openPanel(browser: Browser, server: PanelServer, options: { theme?: string; state?: unknown; width?: number; height?: number } = {}): Promise<PanelPage> {
  const { page, errors } = await newTestPage(browser, server.origin, options);
  await page.addInitScript((initialState) => {
    const recorded = { posted: [] as unknown[], state: initialState, setStateCalls: 0 };
    let acquired = false;
    Object.assign(window, {
      __recorded: recorded,
      acquireVsCodeApi() {
        if (acquired) throw new Error('acquireVsCodeApi may only be called once');
        acquired = true;
        return {
          postMessage: (message: unknown) => recorded.posted.push(JSON.parse(JSON.stringify(message))),
          getState: () => recorded.state,
          setState: (state: unknown) => {
            recorded.state = JSON.parse(JSON.stringify(state));
            recorded.setStateCalls++;
          },
        };
      },
    });
  }, options.state);
  await page.goto(`${server.origin}/?theme=${options.theme ?? 'vscode-dark'}`);
  const panel: PanelPage = {
    page,
    errors,
    recorded: () => page.evaluate(() => ({ ...(window as unknown as { __recorded: Omit<Recorded, 'cspViolations'> }).__recorded, cspViolations: (window as unknown as { __cspViolations: string[] }).__cspViolations })),
    settle: () => settle(page),
    async send(messages) {
      await page.evaluate((list) => list.forEach((message) => window.postMessage(message, '*')), messages as unknown[]);
      await settle(page);
    },
  };
  await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
  await panel.settle();
  return panel;
}

/** Lets queued message events run, then waits for every Lit element to finish updating and a frame to paint. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const pending = (root: Document | ShadowRoot): Promise<unknown>[] =>
      [...root.querySelectorAll('*')].flatMap((element) => {
        const lit = element as Element & { updateComplete?: Promise<unknown> };
        return [...(lit.updateComplete ? [lit.updateComplete] : []), ...(element.shadowRoot ? pending(element.shadowRoot) : [])];
      });
    for (let round = 0; round < 3; round++) await Promise.all(pending(document));
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  });
}


/** The heatmap's chart, seen from the page: data length, grid size and colours in use. */
export interface HeatmapProbe {
  dataLength: number;
  rows: number;
  columns: number;
  tickColor: string;
  lastUpdateMs: number;
}

export function probeHeatmap(page: Page): Promise<HeatmapProbe> {
  return page.locator('repsim-heatmap').evaluate((element) => {
    const heatmap = element as import('../../webview/components/repsim-heatmap.js').RepsimHeatmap;
    const chart = heatmap.chart;
    if (!chart) throw new Error('no chart');
    return {
      dataLength: chart.data.datasets[0].data.length,
      rows: chart.data.yLabels?.length ?? 0,
      columns: chart.data.xLabels?.length ?? 0,
      tickColor: String((chart.options.scales?.x?.ticks as { color?: unknown } | undefined)?.color),
      lastUpdateMs: heatmap.lastUpdateMs,
    };
  });
}

/** Canvas pixels around the centre of cell (row, column): `size` × `size` RGBA values, and the centre's page coordinates. */
export function cellPixels(page: Page, row: number, column: number, size = 1): Promise<{ rgba: number[]; pageX: number; pageY: number }> {
  return page.locator('repsim-heatmap').evaluate(
    (element, [row, column, size]) => {
      const chart = (element as import('../../webview/components/repsim-heatmap.js').RepsimHeatmap).chart!;
      const x = chart.scales.x.getPixelForValue(column);
      const y = chart.scales.y.getPixelForValue(row);
      const ratio = chart.currentDevicePixelRatio;
      const half = Math.floor(size / 2);
      const data = chart.ctx.getImageData(Math.round(x * ratio) - half, Math.round(y * ratio) - half, size, size).data;
      const box = chart.canvas.getBoundingClientRect();
      return { rgba: [...data], pageX: box.left + x, pageY: box.top + y };
    },
    [row, column, size],
  );
}
