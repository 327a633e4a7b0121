/**
 * The self-contained HTML report: renderReportHtml + loadReportAssets, opened in Chromium from
 * a file:// URL with nothing else reachable.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunSnapshot } from '../../src/protocol/results.js';
import type { HostMessage } from '../../src/protocol/webview.js';
import { findPackageRoot } from '../../src/engine/packageRoot.js';
import { runFinding, withFindings } from '../../src/protocol/findings.js';
import { embeddedJson, inlineScript, loadReportAssets, renderReportHtml, type ReportAssets } from '../../src/server/report/html.js';
import { scaleRgb } from '../../webview/charts/colorScale.js';
import { artifactPath, assertBuilt, NO_CHROMIUM, cellPixels, cspViolations, launchChromium, loadMessages, newTestPage, probeHeatmap, ROOT, settle } from './harness.js';

const [{ snapshot }] = loadMessages('run-done-snapshot.json') as Extract<HostMessage, { type: 'snapshot' }>[];

describe('HTML report', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  let assets: ReportAssets;
  let directory: string;

  before(async () => {
    assertBuilt();
    assets = await loadReportAssets();
    browser = await launchChromium();
    directory = mkdtempSync(join(tmpdir(), 'repsim-report-'));
  });

  after(async () => {
    await browser?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  test('finds the package root from src/ (tsx) and from dist/ (bundle)', () => {
    assert.equal(findPackageRoot(join(ROOT, 'src', 'server', 'report')), ROOT);
    assert.equal(findPackageRoot(join(ROOT, 'dist')), ROOT);
    assert.ok(assets.script.length > 10_000 && assets.codiconFont.length > 10_000 && assets.codiconCss.includes('.codicon-'));
  });

  test('embedded JSON and the inlined bundle cannot close or re-open the script element', () => {
    const hostile = '</script><script>alert(1)</script><!--';
    assert.doesNotMatch(embeddedJson({ name: hostile }), /<\/script|<!--|<script/i);
    assert.deepEqual(JSON.parse(embeddedJson({ name: hostile })), { name: hostile });
    const script = inlineScript('const s = "</script>"; const r = /<script>/i; // <!-- x\n//# sourceMappingURL=webview.js.map\n');
    assert.doesNotMatch(script, /<\/script|<!--|<script|sourceMappingURL/i);
    // The escaped code means the same.
    assert.deepEqual(new Function(`${script}; return [s, r.test('<SCRIPT>')];`)(), ['</script>', true]);
    const html = renderReportHtml({ ...snapshot, experiment: hostile }, assets);
    assert.equal(html.match(/<\/script>/g)?.length, 2, 'only the JSON and the module script close');
    assert.match(html, /<title>RepSim — &lt;\/script&gt;/);
  });

  test("states the run's finding at the top", async () => {
    const comparisons = (snapshot as RunSnapshot).comparisons.map(withFindings);
    const file = join(directory, 'report-finding.html');
    writeFileSync(file, renderReportHtml({ ...(snapshot as RunSnapshot), comparisons, finding: runFinding(comparisons) }, assets));
    const url = pathToFileURL(file).href;
    const { page, errors } = await newTestPage(browser, url);
    await page.goto(url);
    await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
    await settle(page);
    const shown = await page.locator('repsim-app .finding').evaluate((element) => (element.textContent ?? '').replace(/\s+/g, ' ').trim());
    assert.equal(shown, `Finding${runFinding(comparisons)}`);
    assert.match(shown, / of \d+ layers most similar to their counterpart \(mean CKA /);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('carries the publication figures of the shown comparison, drawn as images with no CSP violation', async () => {
    const file = join(directory, 'report-figures.html');
    writeFileSync(file, renderReportHtml(snapshot as RunSnapshot, assets));
    const url = pathToFileURL(file).href;
    const { page, errors } = await newTestPage(browser, url);
    await page.goto(url);
    await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
    await settle(page);
    const images = page.locator('repsim-figures img');
    assert.equal(await images.count(), 2);
    await page.waitForFunction(() => {
      const figures = document.querySelector('repsim-app')?.shadowRoot?.querySelector('repsim-figures');
      const shown = [...(figures?.shadowRoot?.querySelectorAll('img') ?? [])];
      return shown.length === 2 && shown.every((img) => img.complete && img.naturalWidth > 100);
    });
    assert.match((await images.first().getAttribute('alt')) ?? '', /^Heatmap of /);
    assert.match((await images.first().getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  for (const colorScheme of ['dark', 'light'] as const) {
    test(`opens from disk with no network and draws the run (${colorScheme} system theme)`, async () => {
      const file = join(directory, `report-${colorScheme}.html`);
      writeFileSync(file, renderReportHtml(snapshot as RunSnapshot, assets));
      const url = pathToFileURL(file).href;
      const { page, errors, requests } = await newTestPage(browser, url, { colorScheme });
      await page.goto(url);
      await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
      await settle(page);

      assert.deepEqual(requests, [url], 'the report file is the only request');
      assert.equal(await page.evaluate(() => document.body.className), `vscode-${colorScheme}`);
      const probe = await probeHeatmap(page);
      assert.deepEqual([probe.rows, probe.columns, probe.dataLength], [6, 6, 36]);
      assert.equal(probe.tickColor, colorScheme === 'dark' ? '#cccccc' : '#3b3b3b');
      const comparison = snapshot.comparisons[0];
      assert.equal(comparison.matrix[2][3], 0.5);
      const pixel = (await cellPixels(page, 2, 3)).rgba;
      const expected = scaleRgb(0.5, { min: 0, max: 1 });
      assert.ok(expected.every((c, i) => Math.abs(c - pixel[i]) <= 3), `cell (2, 3) rgb(${pixel.slice(0, 3)})`);
      assert.equal(await page.locator('repsim-progress').count(), 0, 'static: no progress or Cancel');
      assert.ok(await page.locator('repsim-training-curves').isVisible());
      // The codicon font is embedded and in use.
      assert.ok(await page.evaluate(() => document.fonts.check('16px codicon')));

      // Exports download in the report.
      const download = page.waitForEvent('download');
      await page.locator('repsim-export-bar vscode-button[data-format="csv"]').click();
      assert.equal((await download).suggestedFilename(), 'seeds-small-a-vs-small-b-cka.csv');

      await page.screenshot({ path: artifactPath(`report-${colorScheme}.png`), fullPage: true });
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});
