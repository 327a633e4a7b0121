/**
 * Figure exports in Chromium: the panel's export bar posts the publication heatmap as SVG (an
 * SVG document the extension host accepts) and as a PNG data URL rasterized from the same SVG at
 * 2×, the corresponding-layers plot likewise, with the origin picked in the bar; the report
 * downloads the same figures under its own CSP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { decodeExport } from '../../src/extension/panel/exportFile.js';
import type { HostMessage, WebviewMessage } from '../../src/protocol/webview.js';
import { loadReportAssets, renderReportHtml } from '../../src/server/report/html.js';
import { ckaDomain, scaleRgb } from '../../webview/charts/colorScale.js';
import { heatmapLayout } from '../../webview/figures/heatmapSvg.js';
import { artifactPath, assertBuilt, cspViolations, launchChromium, loadMessages, newTestPage, NO_CHROMIUM, openPanel, settle, startPanelServer, type PanelPage, type PanelServer } from './harness.js';

type ExportMessage = Extract<WebviewMessage, { type: 'export' }>;

const live = loadMessages('run-live.json');
const finalResult = (live.find((m) => m.type === 'comparison') as Extract<HostMessage, { type: 'comparison' }>).result;
const [{ snapshot }] = loadMessages('run-done-snapshot.json') as Extract<HostMessage, { type: 'snapshot' }>[];

async function exportVia(panel: PanelPage, key: string): Promise<ExportMessage> {
  const before = (await panel.recorded()).posted.length;
  await panel.page.locator(`repsim-export-bar vscode-button[data-format="${key}"]`).click();
  await panel.page.waitForFunction((count) => (window as unknown as { __recorded: { posted: unknown[] } }).__recorded.posted.length > count, before);
  return (await panel.recorded()).posted.at(-1) as ExportMessage;
}

/** The SVG parsed by the browser's XML parser: whether it is well-formed, and the y of layer 1's and layer n's tick labels. */
function inspectSvg(panel: PanelPage, svg: string) {
  return panel.page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const y = (element: Element | null) => {
      const translate = /translate\(([-\d.]+) ([-\d.]+)\)/.exec(element?.getAttribute('transform') ?? '');
      return translate ? Number(translate[2]) : Number(element?.getAttribute('y'));
    };
    const ticks = [...doc.querySelectorAll('.y-tick')];
    return {
      wellFormed: doc.querySelector('parsererror') === null && doc.documentElement.localName === 'svg',
      title: doc.querySelector('.title')?.textContent,
      xTitle: doc.querySelector('.x-title')?.textContent,
      yTitle: doc.querySelector('.y-title')?.textContent,
      firstY: y(ticks.find((t) => t.getAttribute('data-index') === '0') ?? null),
      lastY: y(ticks.at(-1) ?? null),
    };
  }, svg);
}

function decodePng(dataUrl: string): PNG {
  const match = /^data:image\/png;base64,(.+)$/.exec(dataUrl);
  assert.ok(match, 'a PNG data URL');
  return PNG.sync.read(Buffer.from(match[1], 'base64'));
}

describe('figure exports', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  let server: PanelServer;
  let directory: string;

  before(async () => {
    assertBuilt();
    browser = await launchChromium();
    server = await startPanelServer();
    directory = mkdtempSync(join(tmpdir(), 'repsim-figures-'));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  test('the panel posts the heatmap as SVG and as a 2× PNG of that SVG, layer 1 where the bar says', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(live);
    const svg = await exportVia(panel, 'svg');
    assert.deepEqual([svg.format, svg.comparison, svg.fileName], ['svg', finalResult.name, 'seeds-small-a-vs-small-b-cka.svg']);
    assert.match(svg.data, /^<\?xml/);
    assert.equal(decodeExport(svg).fileName, 'seeds-small-a-vs-small-b-cka.svg', 'the extension host accepts it');
    const seen = await inspectSvg(panel, svg.data);
    assert.equal(seen.wellFormed, true);
    assert.match(seen.title ?? '', /^Linear CKA \(minibatch, batch \d+/);
    assert.deepEqual([seen.xTitle, seen.yTitle], [finalResult.b, finalResult.a]);
    assert.ok(seen.firstY > seen.lastY, 'layer 1 at the bottom by default');

    const png = await exportVia(panel, 'png');
    assert.deepEqual([png.format, png.fileName], ['png', 'seeds-small-a-vs-small-b-cka.png']);
    assert.deepEqual([...decodeExport(png).bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const image = decodePng(png.data);
    const [, width, height] = /<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg.data)!;
    assert.deepEqual([image.width, image.height], [2 * Number(width), 2 * Number(height)]);
    const layout = heatmapLayout(finalResult);
    const { x, y } = layout.cellOrigin(0, 0);
    const at = (Math.round(2 * (y + layout.cell / 2)) * image.width + Math.round(2 * (x + layout.cell / 2))) * 4;
    const want = scaleRgb(finalResult.matrix[0][0] as number, ckaDomain(finalResult.matrix));
    assert.ok(want.every((c, k) => Math.abs(c - image.data[at + k]) <= 3), `cell (0, 0) rgb(${[...image.data.subarray(at, at + 3)]}), want rgb(${want})`);
    writeFileSync(artifactPath('figure-heatmap.png'), Buffer.from(png.data.split(',')[1], 'base64'));

    // Layer 1 at the top left, picked in the bar.
    await panel.page.locator('repsim-export-bar vscode-single-select.origin').evaluate((select) => {
      (select as HTMLSelectElement).value = 'top-left';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await panel.settle();
    const topLeft = await inspectSvg(panel, (await exportVia(panel, 'svg')).data);
    assert.ok(topLeft.firstY < topLeft.lastY, 'layer 1 at the top');

    assert.deepEqual((await panel.recorded()).cspViolations, []);
    assert.deepEqual(panel.errors, []);
    await panel.page.close();
  });

  test('the panel posts the corresponding-layers plot as SVG and PNG', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(live);
    const svg = await exportVia(panel, 'layers-svg');
    assert.deepEqual([svg.format, svg.fileName], ['svg', 'seeds-small-a-vs-small-b-layers.svg']);
    assert.match(svg.data, /CKA of corresponding layers/);
    assert.equal((await inspectSvg(panel, svg.data)).wellFormed, true);
    decodeExport(svg);
    const png = await exportVia(panel, 'layers-png');
    assert.deepEqual([png.format, png.fileName], ['png', 'seeds-small-a-vs-small-b-layers.png']);
    assert.ok(decodePng(png.data).width > 600);
    assert.deepEqual((await panel.recorded()).cspViolations, []);
    assert.deepEqual(panel.errors, []);
    await panel.page.close();
  });

  test('the report downloads the same figures under its CSP', async () => {
    const file = join(directory, 'report.html');
    writeFileSync(file, renderReportHtml(snapshot, await loadReportAssets()));
    const url = pathToFileURL(file).href;
    const { page, errors } = await newTestPage(browser, url);
    await page.goto(url);
    await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
    await settle(page);
    for (const [key, name] of [['png', 'seeds-small-a-vs-small-b-cka.png'], ['svg', 'seeds-small-a-vs-small-b-cka.svg'], ['layers-png', 'seeds-small-a-vs-small-b-layers.png']]) {
      const download = page.waitForEvent('download');
      await page.locator(`repsim-export-bar vscode-button[data-format="${key}"]`).click();
      const saved = await download;
      assert.equal(saved.suggestedFilename(), name);
      const bytes = readFileSync((await saved.path())!);
      if (name.endsWith('.png')) assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], name);
      else assert.match(bytes.toString('utf8'), /^<\?xml[\s\S]*<svg [\s\S]*<\/svg>\n$/);
    }
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
