/**
 * The webview panel in Chromium, driven by recorded host message sequences
 * (test/fixtures/webview/*.json) through the real page and CSP, with a stub VS Code API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { runFinding, withFindings } from '../../src/protocol/findings.js';
import type { ComparisonResult, RunSnapshot } from '../../src/protocol/results.js';
import { isWebviewMessage, type HostMessage } from '../../src/protocol/webview.js';
import { scaleRgb } from '../../webview/charts/colorScale.js';
import { artifactPath, assertBuilt, NO_CHROMIUM, cellPixels, launchChromium, loadMessages, openPanel, probeHeatmap, startPanelServer, type PanelPage, type PanelServer } from './harness.js';

const live = loadMessages('run-live.json');
const cancelled = loadMessages('run-cancelled.json');
const partials = live.filter((m): m is Extract<HostMessage, { type: 'partial' }> => m.type === 'partial');
const finalResult = (live.find((m) => m.type === 'comparison') as Extract<HostMessage, { type: 'comparison' }>).result;
const firstPartial = live.indexOf(partials[0]);

function assertColorNear(actual: readonly number[], expected: readonly number[], label: string, tolerance = 3): void {
  const off = expected.some((value, i) => Math.abs(actual[i] - value) > tolerance);
  assert.ok(!off, `${label}: pixel rgb(${actual.slice(0, 3).join(', ')}) is not the scale's rgb(${expected.join(', ')})`);
}

async function assertClean(panel: PanelPage): Promise<void> {
  const recorded = await panel.recorded();
  assert.deepEqual(recorded.cspViolations, [], 'CSP violations');
  assert.deepEqual(panel.errors, [], 'page errors');
}

/** Text of the first match, read through its shadow root (innerText of a custom element sees only its light DOM). */
const text = (panel: PanelPage, selector: string) =>
  panel.page
    .locator(selector)
    .first()
    .evaluate((element) => ((element.shadowRoot ?? element).textContent ?? '').replace(/\s+/g, ' ').trim());

describe('webview panel', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  let server: PanelServer;

  before(async () => {
    assertBuilt();
    browser = await launchChromium();
    server = await startPanelServer();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('replays a live run: ready first, progress, heatmap filled batch by batch in the same chart, finished sections', async () => {
    const panel = await openPanel(browser, server);
    assert.deepEqual((await panel.recorded()).posted, [{ type: 'ready' }]);
    assert.match(await text(panel, 'repsim-app'), /Waiting for the run/);

    await panel.send(live.slice(0, firstPartial + 1));
    assert.match(await text(panel, 'repsim-run-header'), /seeds Running backend: cpu/);
    assert.match(await text(panel, 'repsim-progress'), /comparing small-a-vs-small-b \(1\/2\)[\s\S]*0 \/ 4 · 813 images\/s · ETA 1 min 35 s/);
    assert.ok(await panel.page.locator('repsim-progress vscode-button.cancel').isVisible(), 'Cancel shows while running');
    assert.ok(await panel.page.locator('repsim-training-curves').isVisible(), 'training curves');

    let probe = await probeHeatmap(panel.page);
    assert.deepEqual([probe.rows, probe.columns, probe.dataLength], [6, 6, 36]);
    await panel.page.locator('repsim-heatmap').evaluate((element) => Object.assign(window, { __firstChart: (element as unknown as { chart: unknown }).chart }));

    for (const partial of partials.slice(1)) {
      await panel.send([partial]);
      const seen = await panel.page.locator('repsim-heatmap').evaluate((element) => {
        const chart = (element as unknown as { chart: { data: { datasets: { data: { v: number | null }[] }[] } } }).chart;
        return { same: chart === (window as unknown as { __firstChart: unknown }).__firstChart, values: chart.data.datasets[0].data.map((p) => p.v) };
      });
      assert.ok(seen.same, `batch ${partial.cka.batchesDone}: the chart was re-created`);
      assert.deepEqual(seen.values, partial.cka.matrix.flat(), `batch ${partial.cka.batchesDone}: data`);
      assert.match(await text(panel, '.summary'), new RegExp(`batch ${partial.cka.batchesDone} of 4`));
    }

    await panel.send(live.slice(live.indexOf(partials.at(-1)!) + 1));
    probe = await probeHeatmap(panel.page);
    assert.equal(probe.dataLength, 36);
    assert.match(await text(panel, 'repsim-run-header'), /Done/);
    assert.equal(await panel.page.locator('repsim-progress').count(), 0, 'no progress once done');
    assert.equal(await panel.page.locator('vscode-single-select.picker vscode-option').count(), 2, 'a selector for two comparisons');
    for (const section of ['repsim-diagonal', 'repsim-first-pc', 'repsim-subspace-match', 'repsim-class-agreement']) {
      assert.ok(await panel.page.locator(section).isVisible(), `${section} shown`);
    }
    assert.match(await text(panel, 'repsim-class-agreement'), /80\.3%/);

    // Cell (2, 3) is 0.5 in the final matrix: its pixel has the scale's colour.
    await panel.page.mouse.move(1, 1);
    await panel.settle();
    assert.equal(finalResult.matrix[2][3], 0.5);
    assertColorNear((await cellPixels(panel.page, 2, 3)).rgba, scaleRgb(0.5, { min: 0, max: 1 }), 'cell (2, 3)');
    assertColorNear((await cellPixels(panel.page, 1, 1)).rgba, scaleRgb(finalResult.matrix[1][1]!, { min: 0, max: 1 }), 'cell (1, 1)');
    // Cell (0, 5) is undefined: hatched, so a patch of it has more than one colour and none of them is a scale colour of its neighbours.
    assert.equal(finalResult.matrix[0][5], null);
    const patch = (await cellPixels(panel.page, 0, 5, 12)).rgba;
    const colours = new Set<string>();
    for (let k = 0; k < patch.length; k += 4) colours.add(patch.slice(k, k + 3).join(','));
    assert.ok(colours.size >= 2, `undefined cell is hatched (${colours.size} colour)`);
    await assertClean(panel);
    await panel.page.close();
  });

  test('a second comparison is picked from the selector and the heatmap keeps its chart', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(live);
    await panel.page.locator('repsim-heatmap').evaluate((element) => Object.assign(window, { __firstChart: (element as unknown as { chart: unknown }).chart }));
    await panel.page.locator('vscode-single-select.picker').click();
    await panel.page.getByRole('option', { name: 'small-a-vs-wide' }).click();
    await panel.settle();
    const probe = await probeHeatmap(panel.page);
    assert.deepEqual([probe.rows, probe.columns, probe.dataLength], [6, 4, 24]);
    assert.ok(await panel.page.locator('repsim-heatmap').evaluate((element) => (element as unknown as { chart: unknown }).chart === (window as unknown as { __firstChart: unknown }).__firstChart));
    assert.equal(await panel.page.locator('repsim-diagonal').count(), 0, 'no corresponding-layers line for different architectures');
    assert.match(await text(panel, 'ul.warnings'), /one batch only/);
    await assertClean(panel);
    await panel.page.close();
  });

  test("the run's finding: one line at the top once comparisons have one, and each comparison's own beside its heatmap", async () => {
    const panel = await openPanel(browser, server, { theme: 'vscode-dark' });
    // The results as the server sends them, with the layer identification computed from the matrices.
    const messages = live.map((m) => (m.type === 'comparison' ? { ...m, result: withFindings(m.result) } : m));
    const firstComparison = messages.findIndex((m) => m.type === 'comparison');
    await panel.send(messages.slice(0, firstComparison));
    assert.equal(await panel.page.locator('repsim-app .finding').count(), 0, 'no finding before a comparison has finished');
    await panel.send(messages.slice(firstComparison));
    const results = messages.flatMap((m) => (m.type === 'comparison' ? [m.result] : []));
    const expected = runFinding(results)!;
    assert.match(expected, /^small-a vs small-b: 6 of 6 layers most similar to their counterpart \(mean CKA 0\.\d\d\)$/, 'different architectures have no counterparts');
    assert.equal(await text(panel, 'repsim-app .finding'), `Finding${expected}`);
    assert.equal(await text(panel, 'repsim-app .comparison-finding'), `${results[0].finding} (Kornblith et al. 2019's check)`);
    // Drawn with the theme's colours.
    const [border, themed] = await panel.page.locator('repsim-app .finding').evaluate((element) => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--vscode-textLink-foreground, var(--vscode-focusBorder, currentColor))';
      document.body.append(probe);
      const colour = getComputedStyle(probe).color;
      probe.remove();
      return [getComputedStyle(element).borderLeftColor, colour];
    });
    assert.equal(border, themed);
    await assertClean(panel);
    await panel.page.close();
  });

  test('tooltips name both layers and give the value ± its standard error', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(live);
    const hover = async (row: number, column: number) => {
      const { pageX, pageY } = await cellPixels(panel.page, row, column);
      await panel.page.mouse.move(pageX, pageY);
      await panel.settle();
      return panel.page.locator('repsim-heatmap').evaluate((element) => {
        const tooltip = (element as unknown as { chart: { tooltip: { opacity: number; title: string[]; body: { lines: string[] }[] } } }).chart.tooltip;
        return { opacity: tooltip.opacity, title: tooltip.title, lines: tooltip.body.flatMap((b) => b.lines) };
      });
    };
    const cell = await hover(2, 3);
    assert.equal(cell.opacity, 1);
    assert.deepEqual(cell.title, ['A small-a: layer1.0.conv2', 'B small-b: layer2.0.conv1']);
    assert.deepEqual(cell.lines, [`CKA 0.500 ± ${finalResult.stderr[2][3]!.toFixed(3)}`]);
    const undefinedCell = await hover(0, 5);
    assert.deepEqual(undefinedCell.title, ['A small-a: conv1', 'B small-b: fc']);
    assert.deepEqual(undefinedCell.lines, ['CKA undefined (zero variance)']);
    await assertClean(panel);
    await panel.page.close();
  });

  test('Cancel posts {type: cancel, runId}; a cancelled run hides progress and Cancel', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(cancelled.slice(0, 3));
    await panel.page.locator('repsim-progress vscode-button.cancel').click();
    const posted = (await panel.recorded()).posted;
    assert.deepEqual(posted.at(-1), { type: 'cancel', runId: 'run-2024-0002' });
    assert.ok(posted.every(isWebviewMessage));
    await panel.send(cancelled.slice(3));
    assert.match(await text(panel, 'repsim-run-header'), /Cancelled/);
    assert.doesNotMatch(await text(panel, 'repsim-run-header'), /\bcancelled\b/, 'no error line for a cancellation');
    assert.equal(await panel.page.locator('repsim-progress').count(), 0);
    assert.match(await text(panel, 'repsim-app'), /This run has no comparisons/);
    await panel.send([{ type: 'failed', runId: 'run-2024-0002', error: 'out of memory', cancelled: false }]);
    assert.match(await text(panel, 'repsim-run-header'), /Failed[\s\S]*out of memory/);
    await assertClean(panel);
    await panel.page.close();
  });

  test('export posts a PNG data URL, CSV and JSON for the host to save', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(live);
    for (const format of ['png', 'csv', 'json']) await panel.page.locator(`repsim-export-bar vscode-button[data-format="${format}"]`).click();
    const exports = (await panel.recorded()).posted.filter((m) => m.type === 'export');
    assert.equal(exports.length, 3);
    assert.ok(exports.every(isWebviewMessage));
    const [png, csv, json] = exports as Extract<(typeof exports)[number], { type: 'export' }>[];
    assert.deepEqual([png.format, png.comparison, png.fileName], ['png', 'small-a-vs-small-b', 'seeds-small-a-vs-small-b-cka.png']);
    assert.match(png.data, /^data:image\/png;base64,[A-Za-z0-9+/]{1000,}/);
    assert.equal(csv.fileName, 'seeds-small-a-vs-small-b-cka.csv');
    assert.equal(csv.data.split('\n')[0], 'layer,conv1,layer1.0.conv1,layer1.0.conv2,layer2.0.conv1,layer2.0.conv2,fc');
    assert.match(csv.data.split('\n')[1], /^conv1,0\.95,.*,$/, 'undefined cell is empty');
    assert.deepEqual((JSON.parse(json.data) as ComparisonResult).matrix, finalResult.matrix);
    await assertClean(panel);
    await panel.page.close();
  });

  test('a theme switch (body class) re-colours the axes; the legend follows the CSS variables', async () => {
    const panel = await openPanel(browser, server, { theme: 'vscode-dark' });
    await panel.send(live);
    const legendColor = () => panel.page.locator('repsim-color-legend .min').evaluate((element) => getComputedStyle(element).color);
    const lineChartTicks = () =>
      panel.page.locator('repsim-diagonal repsim-chart').evaluate((element) => {
        const chart = (element as unknown as { chart: { options: { scales: { y: { ticks: { color: string } } } } } }).chart;
        (window as unknown as { __lineCharts: unknown[] }).__lineCharts ??= [];
        (window as unknown as { __lineCharts: unknown[] }).__lineCharts.push(chart);
        return chart.options.scales.y.ticks.color;
      });
    const dark = { tick: (await probeHeatmap(panel.page)).tickColor, legend: await legendColor(), line: await lineChartTicks() };
    await panel.page.mouse.move(1, 1);
    await panel.page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await panel.settle();
    const light = { tick: (await probeHeatmap(panel.page)).tickColor, legend: await legendColor(), line: await lineChartTicks() };
    assert.equal(dark.tick, '#cccccc');
    assert.equal(light.tick, '#3b3b3b');
    assert.deepEqual([dark.line, light.line], ['#cccccc', '#3b3b3b'], 'line charts re-coloured');
    assert.ok(await panel.page.evaluate(() => ((c) => c[0] === c[1])((window as unknown as { __lineCharts: unknown[] }).__lineCharts)), 'in the same Chart instance');
    assert.notEqual(dark.legend, light.legend);
    // The page background drawn into the canvas (outside the cells) follows too.
    const corner = await panel.page.locator('repsim-heatmap').evaluate((element) => [...(element as unknown as { chart: { ctx: CanvasRenderingContext2D } }).chart.ctx.getImageData(1, 1, 1, 1).data]);
    assert.deepEqual(corner.slice(0, 3), [255, 255, 255]);
    await assertClean(panel);
    await panel.page.close();
  });

  test('invalid or foreign messages are ignored', async () => {
    const panel = await openPanel(browser, server);
    await panel.send(live);
    const view = async () => ({ header: await text(panel, 'repsim-run-header'), summary: await text(panel, '.summary'), heatmap: { ...(await probeHeatmap(panel.page)), lastUpdateMs: 0 } });
    const before = { view: await view(), state: (await panel.recorded()).state };
    const badMatrix = { ...partials[0], comparison: 'small-a-vs-small-b', cka: { ...partials[0].cka, matrix: [[1, 2]] } };
    await panel.send([
      null,
      'snapshot',
      42,
      { type: 'snapshot' },
      { type: 'snapshot', snapshot: { runId: 'x' } },
      { type: 'progress' },
      { type: 'nonsense', runId: 'run-2024-0001' },
      { type: 'done', runId: 'another-run' },
      { type: 'failed', runId: 'another-run', error: 'no', cancelled: false },
      { type: 'progress', runId: 'run-2024-0001', progress: { phase: 'train' } },
      { type: 'comparison', runId: 'run-2024-0001', result: { name: 'broken' } },
      { type: 'training', runId: 'run-2024-0001', metrics: { model: 'small-a', epoch: 'one' } },
      badMatrix,
    ]);
    assert.deepEqual(await view(), before.view);
    assert.deepEqual((await panel.recorded()).state, before.state);
    await assertClean(panel);
    await panel.page.close();
  });

  test('state saved with setState brings back the same view after a reload', async () => {
    const panel = await openPanel(browser, server, { height: 700 });
    await panel.send(live);
    await panel.page.locator('vscode-single-select.picker').click();
    await panel.page.getByRole('option', { name: 'small-a-vs-wide' }).click();
    await panel.page.mouse.move(1, 1);
    await panel.page.evaluate(() => window.scrollTo(0, 300));
    await panel.settle();
    // VS Code hides the panel: the pending save is flushed.
    await panel.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    const saved = (await panel.recorded()).state as { snapshot: RunSnapshot; picked: string; scrollY: number };
    assert.equal(saved.picked, 'small-a-vs-wide');
    assert.equal(saved.snapshot.status, 'done');
    assert.equal(saved.scrollY, 300);
    const view = async (p: PanelPage) => ({
      header: await text(p, 'repsim-run-header'),
      summary: await text(p, '.summary'),
      heatmap: { ...(await probeHeatmap(p.page)), lastUpdateMs: 0 },
      cell: (await cellPixels(p.page, 3, 2)).rgba,
      scrollY: await p.page.evaluate(() => window.scrollY),
    });
    const original = await view(panel);
    await panel.page.close();

    const reloaded = await openPanel(browser, server, { height: 700, state: saved });
    assert.deepEqual((await reloaded.recorded()).posted, [{ type: 'ready' }], 'asks the host for updates after restoring');
    assert.deepEqual(await view(reloaded), original);
    await assertClean(reloaded);
    await reloaded.page.close();
  });

  test('screenshots of the panel in dark, light and high-contrast themes (test-artifacts/)', async () => {
    for (const theme of ['vscode-dark', 'vscode-light', 'vscode-high-contrast']) {
      const panel = await openPanel(browser, server, { theme });
      await panel.send(live);
      await panel.page.screenshot({ path: artifactPath(`webview-${theme.replace('vscode-', '')}.png`), fullPage: true });
      await assertClean(panel);
      await panel.page.close();
    }
  });
});
