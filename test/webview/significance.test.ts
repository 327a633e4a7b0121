/**
 * Significance and drill-down in the panel (issue 11), in Chromium with hand-made runs: the
 * heatmap's significance level and calibrated toggles, tooltips with the permutation test, the
 * cell detail (per-batch histogram, contributing examples, thumbnails, recompute), the report's
 * static version of it, estimators side by side, the layer identification score, saved state.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CellDetails, CkaSettings, ComparisonResult, ExampleContribution, Matrix, PermutationTest, RunSnapshot } from '../../src/protocol/results.js';
import { isWebviewMessage, type WebviewMessage } from '../../src/protocol/webview.js';
import { loadReportAssets, renderReportHtml } from '../../src/server/report/html.js';
import { DIMMED_ALPHA } from '../../webview/charts/cellBitmap.js';
import { histogram } from '../../webview/charts/histogram.js';
import { formatPValue } from '../../webview/format.js';
import { estimatorSiblings } from '../../webview/state/comparisons.js';
import { parsePanelState } from '../../webview/state/persistence.js';
import { isComparisonResult } from '../../webview/state/validate.js';
import { artifactPath, assertBuilt, cellPixels, cspViolations, launchChromium, newTestPage, NO_CHROMIUM, openPanel, settle, startPanelServer, type PanelPage, type PanelServer } from './harness.js';

const RUN_ID = 'run-significance';
const LAYERS = ['conv1', 'layer1', 'layer2', 'fc'];
const P = 100;
const FLOOR = 1 / (P + 1);
const MATRIX: Matrix = [
  [0.9, 0.5, 0.3, 0.2],
  [0.5, 0.85, 0.4, null],
  [0.3, 0.4, 0.8, 0.35],
  [0.2, 0.3, 0.35, 0.75],
];
/** p = k / 101; (1, 3) is undefined, (3, 1) was not tested. */
const P_VALUES: Matrix = [
  [1, 3, 21, 51],
  [3, 1, 6, null],
  [21, 6, 1, 2],
  [51, null, 2, 1],
].map((row) => row.map((k) => (k === null ? null : k / (P + 1))));
const STDERR: Matrix = MATRIX.map((row) => row.map((v) => (v === null ? null : 0.012)));
const BATCH_OFFSETS = [-0.03, -0.01, 0, 0.01, 0.02, 0.03];

const grid = <T>(f: (i: number, j: number) => T): T[][] => LAYERS.map((_, i) => LAYERS.map((__, j) => f(i, j)));

function significance(matrix: Matrix): PermutationTest {
  const tested = (i: number, j: number) => matrix[i][j] !== null && P_VALUES[i][j] !== null;
  return {
    permutations: P,
    seed: 7,
    method: "B's examples shuffled within each batch",
    nullMean: grid((i, j) => (tested(i, j) ? 0.05 : null)),
    nullStd: grid((i, j) => (tested(i, j) ? 0.01 : null)),
    pValue: grid((i, j) => (tested(i, j) ? P_VALUES[i][j] : null)),
    calibrated: grid((i, j) => (tested(i, j) ? (matrix[i][j]! - 0.05) / 0.95 : null)),
  };
}

/** Top examples of cell (i, j): 1000 i + 100 j + k, largest share first; the first has an id. */
const topOf = (i: number, j: number): ExampleContribution[] =>
  Array.from({ length: 10 }, (_, k) => ({ example: 1000 * i + 100 * j + k, share: 0.05 - 0.003 * k, ...(k === 0 ? { id: `img-${i}${j}` } : {}) }));
const bottomOf = (i: number, j: number): ExampleContribution[] => Array.from({ length: 10 }, (_, k) => ({ example: 5000 + 1000 * i + 100 * j + k, share: -0.002 + 0.0001 * k }));

function details(matrix: Matrix): CellDetails {
  return {
    perBatch: grid((i, j) => BATCH_OFFSETS.map((d) => (matrix[i][j] === null ? null : matrix[i][j]! + d))),
    top: grid(topOf),
    bottom: grid(bottomOf),
    contributionsMethod: 'each example’s rows of the cross HSIC term',
    images: true,
  };
}

const SETTINGS: CkaSettings = { kernel: 'linear', estimator: 'minibatch', batchSize: 256, passes: 1, seed: 0, permutations: P };

function comparison(name: string, overrides: Partial<ComparisonResult> & { estimator?: CkaSettings['estimator']; withTest?: boolean } = {}): ComparisonResult {
  const { estimator, withTest = true, ...rest } = overrides;
  const matrix = rest.matrix ?? MATRIX;
  return {
    name,
    a: 'net-a',
    b: 'net-b',
    measure: 'cka',
    settings: { ...SETTINGS, ...(estimator ? { estimator } : {}) },
    layersA: LAYERS,
    layersB: LAYERS,
    matrix,
    stderr: STDERR,
    ...(withTest ? { significance: significance(matrix), details: details(matrix) } : {}),
    batches: 6,
    examples: 1536,
    accuracy: { a: null, b: null },
    layerIdentification: { matched: 4, total: 4, matchedReverse: 3, totalReverse: 4, meanCorresponding: 0.83, layers: [] },
    warnings: [],
    ...rest,
  };
}

const inflated = MATRIX.map((row) => row.map((v) => (v === null ? null : Math.min(1, v + 0.15))));
const MAIN = comparison('a-vs-b');
const BIASED = comparison('a-vs-b-biased', { estimator: 'biased', matrix: inflated, withTest: false });
const OTHER = comparison('a-vs-c', { b: 'net-c', withTest: false, layerIdentification: undefined });

function run(comparisons: ComparisonResult[]): RunSnapshot {
  return { runId: RUN_ID, experiment: 'significance', status: 'done', models: [{ id: 'net-a', source: 'trained' }, { id: 'net-b', source: 'trained' }], training: {}, comparisons };
}

const snapshotMessage = (comparisons: ComparisonResult[]) => ({ type: 'snapshot', snapshot: run(comparisons) });

/** Text of the first match, through its shadow root. */
const text = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((element) => ((element.shadowRoot ?? element).textContent ?? '').replace(/\s+/g, ' ').trim());

/** Cells whose bitmap alpha is the dimmed one, as "row,column". */
function dimmedCells(page: Page): Promise<string[]> {
  return page.locator('repsim-heatmap').evaluate((element, dimmed) => {
    const bitmap = (element as unknown as { cells: { canvas: HTMLCanvasElement } }).cells.canvas;
    const data = bitmap.getContext('2d')!.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const cells: string[] = [];
    for (let k = 0; k < bitmap.width * bitmap.height; k++) if (data[4 * k + 3] === dimmed) cells.push(`${Math.floor(k / bitmap.width)},${k % bitmap.width}`);
    return cells;
  }, DIMMED_ALPHA);
}

/** Cells whose p-value is above `level` (and whose value is defined). */
const expectedDimmed = (level: number) => grid((i, j) => (MATRIX[i][j] !== null && P_VALUES[i][j] !== null && P_VALUES[i][j]! > level ? [`${i},${j}`] : [])).flat(2);

async function pickOption(page: Page, select: string, name: string): Promise<void> {
  await page.locator(select).click();
  await page.getByRole('option', { name, exact: true }).click();
  await settle(page);
}

async function clickCell(page: Page, row: number, column: number): Promise<void> {
  const { pageX, pageY } = await cellPixels(page, row, column);
  await page.mouse.click(pageX, pageY);
  await settle(page);
}

async function assertClean(panel: PanelPage): Promise<void> {
  assert.deepEqual((await panel.recorded()).cspViolations, [], 'CSP violations');
  assert.deepEqual(panel.errors, [], 'page errors');
}

const posted = async (panel: PanelPage, type: WebviewMessage['type']) => (await panel.recorded()).posted.filter((m) => m.type === type);

describe('significance and drill-down', { skip: NO_CHROMIUM }, () => {
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

  test('the significance level dims exactly the cells with p above it; calibrated CKA replaces the values; no toggles without a test', async () => {
    const panel = await openPanel(browser, server);
    await panel.send([snapshotMessage([MAIN, OTHER])]);
    assert.ok(await panel.page.locator('repsim-significance-options vscode-single-select').isVisible(), 'toggles shown');
    assert.deepEqual(await dimmedCells(panel.page), [], 'off: nothing dimmed');

    await pickOption(panel.page, 'repsim-significance-options vscode-single-select', 'p ≤ 0.05');
    assert.deepEqual(await dimmedCells(panel.page), expectedDimmed(0.05));
    assert.deepEqual(expectedDimmed(0.05), ['0,2', '0,3', '1,2', '2,0', '2,1', '3,0']);
    // On the canvas a dimmed cell shows the hatching through its colour: more than one colour in a patch.
    await panel.page.mouse.move(1, 1);
    await panel.settle();
    const patch = (await cellPixels(panel.page, 0, 3, 12)).rgba;
    const colours = new Set<string>();
    for (let k = 0; k < patch.length; k += 4) colours.add(patch.slice(k, k + 3).join(','));
    assert.ok(colours.size >= 2, `dimmed cell is hatched (${colours.size} colour)`);
    const solid = (await cellPixels(panel.page, 0, 0, 12)).rgba;
    assert.equal(new Set(Array.from({ length: solid.length / 4 }, (_, k) => solid.slice(4 * k, 4 * k + 3).join(','))).size, 1, 'a significant cell is one colour');
    assert.match(await text(panel.page, 'repsim-heatmap repsim-color-legend'), /p > 0\.05 \(not significant\)/);

    await pickOption(panel.page, 'repsim-significance-options vscode-single-select', 'p ≤ 0.01');
    assert.deepEqual(await dimmedCells(panel.page), expectedDimmed(0.01));
    assert.ok(expectedDimmed(0.01).length === 10 && !expectedDimmed(0.01).includes('0,0'), 'the floor 1/101 passes 0.01');

    await panel.page.locator('repsim-significance-options vscode-checkbox').click();
    await panel.settle();
    const values = await panel.page.locator('repsim-heatmap').evaluate((element) => (element as unknown as { chart: { data: { datasets: { data: { v: number | null }[] }[] } } }).chart.data.datasets[0].data.map((p) => p.v));
    assert.deepEqual(values, MAIN.significance!.calibrated.flat());
    assert.match(await text(panel.page, 'repsim-heatmap repsim-color-legend'), /calibrated CKA/);

    // A comparison without a permutation test: no toggles, nothing dimmed, raw values.
    await pickOption(panel.page, 'vscode-single-select.picker', 'a-vs-c');
    assert.equal(await panel.page.locator('repsim-significance-options vscode-single-select').count(), 0, 'toggles hidden');
    assert.deepEqual(await dimmedCells(panel.page), []);
    const raw = await panel.page.locator('repsim-heatmap').evaluate((element) => (element as unknown as { chart: { data: { datasets: { data: { v: number | null }[] }[] } } }).chart.data.datasets[0].data.map((p) => p.v));
    assert.deepEqual(raw, MATRIX.flat());
    await assertClean(panel);
    await panel.page.close();
  });

  test('a comparison filling in marks its cells with the permutation test so far', async () => {
    const panel = await openPanel(browser, server);
    const running: RunSnapshot = { ...run([]), status: 'running' };
    await panel.send([{ type: 'snapshot', snapshot: running }]);
    const cka = { layersA: LAYERS, layersB: LAYERS, matrix: MATRIX, stderr: STDERR, batchesDone: 3, totalBatches: 6, significance: significance(MATRIX) };
    await panel.send([{ type: 'partial', runId: RUN_ID, comparison: 'a-vs-b', a: 'net-a', b: 'net-b', cka }]);
    await pickOption(panel.page, 'repsim-significance-options vscode-single-select', 'p ≤ 0.05');
    assert.deepEqual(await dimmedCells(panel.page), expectedDimmed(0.05));
    // Its detail has the test but no per-batch values or examples yet.
    await clickCell(panel.page, 0, 0);
    assert.match(await text(panel.page, 'repsim-cell-detail'), /p = 0\.0099 \(floor 1\/101\)/);
    assert.equal(await panel.page.locator('repsim-cell-detail repsim-chart').count(), 0);
    assert.equal(await panel.page.locator('repsim-cell-detail vscode-button.recompute-button').count(), 0);
    await assertClean(panel);
    await panel.page.close();
  });

  test('tooltips give CKA ± stderr, the p-value (at its floor), the null mean ± std and calibrated CKA', async () => {
    const panel = await openPanel(browser, server);
    await panel.send([snapshotMessage([MAIN])]);
    const hover = async (row: number, column: number) => {
      const { pageX, pageY } = await cellPixels(panel.page, row, column);
      await panel.page.mouse.move(pageX, pageY);
      await panel.settle();
      return panel.page.locator('repsim-heatmap').evaluate((element) => (element as unknown as { chart: { tooltip: { body: { lines: string[] }[] } } }).chart.tooltip.body.flatMap((b) => b.lines));
    };
    assert.deepEqual(await hover(0, 0), ['CKA 0.900 ± 0.012', 'p = 0.0099 (floor 1/101)', 'null 0.050 ± 0.010 (100 permutations)', `calibrated CKA ${(0.85 / 0.95).toFixed(3)}`]);
    assert.deepEqual((await hover(0, 2)).slice(0, 2), ['CKA 0.300 ± 0.012', 'p = 0.208']);
    assert.deepEqual(await hover(3, 1), ['CKA 0.300 ± 0.012', 'not tested for significance']);
    assert.ok(FLOOR.toPrecision(2) === '0.0099');
    await assertClean(panel);
    await panel.page.close();
  });

  test('clicking a cell opens its detail: layers, test, per-batch histogram, top and bottom examples, thumbnails from the host', async () => {
    const panel = await openPanel(browser, server);
    await panel.send([snapshotMessage([MAIN])]);
    assert.equal(await panel.page.locator('repsim-cell-detail').count(), 0);
    await clickCell(panel.page, 1, 2);
    const detail = panel.page.locator('repsim-cell-detail');
    assert.ok(await detail.isVisible(), 'detail open');
    const shown = await text(panel.page, 'repsim-cell-detail');
    assert.match(shown, /layer1 × layer2/);
    assert.match(shown, /CKA\s*0\.400 ± 0\.012/);
    assert.match(shown, /p = 0\.059/);
    assert.match(shown, /null\s*0\.050 ± 0\.010 \(100 permutations\)[\s\S]*calibrated\s*0\.368/);
    assert.ok(await panel.page.locator('repsim-cell-detail repsim-null-position svg circle.observed').count(), 'null-vs-observed line');
    // Histogram of the six per-batch values.
    const histogram = await panel.page.locator('repsim-cell-detail repsim-chart.per-batch').evaluate((element) => {
      const chart = (element as unknown as { chart: { config: { type: string }; data: { datasets: { data: number[] }[] } } }).chart;
      return { type: chart.config.type, counts: chart.data.datasets[0].data };
    });
    assert.equal(histogram.type, 'bar');
    assert.equal(
      histogram.counts.reduce((s, c) => s + c, 0),
      6,
    );
    // Eight top and eight bottom examples, largest share first; the first carries its id.
    const names = (list: string) => panel.page.locator(`repsim-cell-detail repsim-example-list.${list} li .name`).allTextContents();
    assert.deepEqual(await names('top'), ['img-12 (#1200)', ...topOf(1, 2).slice(1, 8).map((c) => `#${c.example}`)]);
    assert.deepEqual(await names('bottom'), bottomOf(1, 2).slice(0, 8).map((c) => `#${c.example}`));
    assert.match(await text(panel.page, 'repsim-cell-detail repsim-example-list.top'), /\+0\.0500/);

    // Thumbnails: asked for the 16 examples shown, drawn from the answer.
    const [request] = (await posted(panel, 'exampleThumbnails')) as Extract<WebviewMessage, { type: 'exampleThumbnails' }>[];
    assert.ok(isWebviewMessage(request));
    assert.deepEqual(request, { type: 'exampleThumbnails', runId: RUN_ID, comparison: 'a-vs-b', examples: [...topOf(1, 2).slice(0, 8), ...bottomOf(1, 2).slice(0, 8)].map((c) => c.example) });
    const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    await panel.send([{ type: 'exampleThumbnails', runId: RUN_ID, comparison: 'a-vs-b', thumbnails: [1200, 1201, 6200].map((example) => ({ example, dataUrl: pixel })) }]);
    const images = await panel.page.locator('repsim-cell-detail repsim-example-list img').evaluateAll((elements) => elements.map((e) => [(e as HTMLImageElement).alt, (e as HTMLImageElement).src.slice(0, 22), (e as HTMLImageElement).naturalWidth]));
    assert.deepEqual(images, [
      ['example img-12 (#1200)', 'data:image/png;base64,', 1],
      ['example #1201', 'data:image/png;base64,', 1],
      ['example #6200', 'data:image/png;base64,', 1],
    ]);
    // Not asked again for the same cell; a hostile URL is not drawn.
    await panel.send([{ type: 'exampleThumbnails', runId: RUN_ID, comparison: 'a-vs-b', thumbnails: [{ example: 1202, dataUrl: 'javascript:alert(1)' }] }]);
    assert.equal(await panel.page.locator('repsim-cell-detail repsim-example-list img').count(), 3);

    // The close button and Escape close it.
    await panel.page.locator('repsim-cell-detail vscode-button.close').click();
    await panel.settle();
    assert.equal(await panel.page.locator('repsim-cell-detail').count(), 0, 'closed by its button');
    await clickCell(panel.page, 0, 0);
    await panel.page.locator('repsim-cell-detail vscode-button.close').focus();
    await panel.page.keyboard.press('Escape');
    await panel.settle();
    assert.equal(await panel.page.locator('repsim-cell-detail').count(), 0, 'closed by Escape');
    // Keyboard: focus the heatmap, move with the arrows, open with Enter.
    await panel.page.locator('repsim-heatmap canvas').focus();
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowRight']) await panel.page.keyboard.press(key);
    await panel.page.keyboard.press('Enter');
    await panel.settle();
    assert.match(await text(panel.page, 'repsim-cell-detail'), /layer2 × layer1/);
    assert.match(await text(panel.page, 'repsim-heatmap .visually-hidden'), /A layer2, B layer1: CKA 0\.400/);
    await assertClean(panel);
    await panel.page.close();
  });

  test('"Recompute without top N" posts the top N examples, shows progress, then the value and the change (or the error)', async () => {
    const panel = await openPanel(browser, server);
    await panel.send([snapshotMessage([MAIN])]);
    await clickCell(panel.page, 2, 2);
    const button = panel.page.locator('repsim-cell-detail vscode-button.recompute-button');
    assert.match((await button.textContent()) ?? '', /Recompute without top 5/);
    await button.click();
    await panel.settle();
    const [request] = (await posted(panel, 'recomputeCell')) as Extract<WebviewMessage, { type: 'recomputeCell' }>[];
    assert.ok(isWebviewMessage(request));
    const exclude = topOf(2, 2).slice(0, 5).map((c) => c.example);
    assert.deepEqual(request, { type: 'recomputeCell', runId: RUN_ID, comparison: 'a-vs-b', layerA: 'layer2', layerB: 'layer2', exclude });
    assert.ok(await panel.page.locator('repsim-cell-detail vscode-progress-ring').isVisible(), 'progress while waiting');
    assert.ok(await button.evaluate((b) => (b as unknown as { disabled: boolean }).disabled), 'no second request while one runs');
    await panel.send([{ type: 'recomputedCell', runId: RUN_ID, result: { comparison: 'a-vs-b', layerA: 'layer2', layerB: 'layer2', exclude, value: 0.74, stderr: 0.013, examples: 1531 } }]);
    assert.equal(await panel.page.locator('repsim-cell-detail vscode-progress-ring').count(), 0);
    assert.equal(await text(panel.page, 'repsim-cell-detail .recomputed'), 'Without the top 5: 0.740 ± 0.013 (change −0.060) over 1,531 examples');

    // Top 1: one example; the host's error is shown.
    await pickOption(panel.page, 'repsim-cell-detail .recompute vscode-single-select', '1');
    await button.click();
    await panel.settle();
    const last = (await posted(panel, 'recomputeCell')).at(-1) as Extract<WebviewMessage, { type: 'recomputeCell' }>;
    assert.deepEqual(last.exclude, [topOf(2, 2)[0].example]);
    await panel.send([{ type: 'recomputedCell', runId: RUN_ID, result: { comparison: 'a-vs-b', layerA: 'layer2', layerB: 'layer2', exclude: last.exclude, value: null, stderr: null, examples: 0, error: 'the activations are gone' } }]);
    assert.equal(await text(panel.page, 'repsim-cell-detail .recomputed'), 'Could not recompute: the activations are gone');
    await assertClean(panel);
    await panel.page.close();
  });

  test('estimators side by side for comparisons differing only in the estimator, not otherwise; layer identification both ways', async () => {
    const panel = await openPanel(browser, server);
    const otherBatch = comparison('a-vs-b-debiased-512', { estimator: 'debiased', settings: { ...SETTINGS, estimator: 'debiased', batchSize: 512 }, withTest: false });
    await panel.send([snapshotMessage([MAIN, BIASED, OTHER, otherBatch])]);
    const estimators = panel.page.locator('repsim-estimators figure');
    assert.deepEqual(await estimators.evaluateAll((figures) => figures.map((f) => (f as HTMLElement).dataset.estimator)), ['biased', 'minibatch'], 'the debiased one has another batch size');
    assert.match(await text(panel.page, 'repsim-estimators'), /biased · mean 0\.6\d\d[\s\S]*minibatch · mean 0\.4\d\d/);
    const lines = await panel.page.locator('repsim-estimators repsim-chart').evaluate((element) => (element as unknown as { chart: { data: { datasets: { label: string }[] } } }).chart.data.datasets.map((d) => d.label));
    assert.deepEqual(lines, ['biased', 'minibatch']);
    // The mini heatmaps share one colour scale: biased (3, 3) and minibatch (0, 0) are both 0.9, and one colour.
    const [biased, minibatch] = await panel.page.locator('repsim-estimators canvas').evaluateAll((canvases) =>
      canvases.map((c, k) => [...(c as HTMLCanvasElement).getContext('2d')!.getImageData(k === 0 ? 3 : 0, k === 0 ? 3 : 0, 1, 1).data]),
    );
    assert.equal(inflated[3][3], MATRIX[0][0]);
    assert.deepEqual(biased, minibatch);
    await panel.page.locator('repsim-estimators').screenshot({ path: artifactPath('webview-estimators.png') });
    assert.equal(await text(panel.page, 'repsim-layer-identification'), 'Layer identification net-a → net-b: 4 / 4 net-b → net-a: 3 / 4 mean CKA of counterparts 0.83');

    await pickOption(panel.page, 'vscode-single-select.picker', 'a-vs-c');
    assert.equal(await panel.page.locator('repsim-estimators').count(), 0, 'no estimators for another pair of models');
    assert.equal(await panel.page.locator('repsim-layer-identification p').count(), 0);
    await assertClean(panel);
    await panel.page.close();
  });

  test('the toggles and the open cell come back after a reload', async () => {
    const panel = await openPanel(browser, server);
    await panel.send([snapshotMessage([MAIN])]);
    await pickOption(panel.page, 'repsim-significance-options vscode-single-select', 'p ≤ 0.05');
    await panel.page.locator('repsim-significance-options vscode-checkbox').click();
    await clickCell(panel.page, 2, 1);
    await panel.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    const saved = (await panel.recorded()).state as { heatmapOptions: unknown; selectedCell: unknown };
    assert.deepEqual(saved.heatmapOptions, { significanceLevel: 0.05, calibrated: true });
    assert.deepEqual(saved.selectedCell, { comparison: 'a-vs-b', row: 2, column: 1 });
    await panel.page.close();

    const reloaded = await openPanel(browser, server, { state: saved });
    assert.deepEqual(await dimmedCells(reloaded.page), expectedDimmed(0.05));
    assert.ok(await reloaded.page.locator('repsim-significance-options vscode-checkbox').evaluate((c) => (c as unknown as { checked: boolean }).checked));
    assert.match(await text(reloaded.page, 'repsim-cell-detail'), /layer2 × layer1/);
    await reloaded.page.screenshot({ path: artifactPath('webview-significance.png'), fullPage: true });
    await assertClean(reloaded);
    await reloaded.page.close();
  });

  test('in the HTML report the detail opens, and recompute and thumbnails are disabled with the reason', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'repsim-significance-'));
    try {
      const file = join(directory, 'report.html');
      writeFileSync(file, renderReportHtml(run([MAIN, BIASED]), await loadReportAssets()));
      const url = pathToFileURL(file).href;
      const { page, errors } = await newTestPage(browser, url);
      await page.goto(url);
      await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
      await settle(page);
      await clickCell(page, 0, 1);
      assert.match(await text(page, 'repsim-cell-detail'), /conv1 × layer1[\s\S]*Thumbnails need the RepSim extension/);
      const button = page.locator('repsim-cell-detail vscode-button.recompute-button');
      assert.ok(await button.evaluate((b) => (b as unknown as { disabled: boolean }).disabled), 'recompute disabled');
      assert.match((await page.locator('repsim-cell-detail .recompute span[title]').getAttribute('title')) ?? '', /static/);
      assert.equal(await page.locator('repsim-cell-detail repsim-example-list img').count(), 0);
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('significance and drill-down: pure parts', () => {
  test('p-values: three decimals, two significant digits when small, the floor named', () => {
    assert.equal(formatPValue(1 / 101, 100), 'p = 0.0099 (floor 1/101)');
    assert.equal(formatPValue(21 / 101, 100), 'p = 0.208');
    assert.equal(formatPValue(2 / 1001, 1000), 'p = 0.0020');
    assert.equal(formatPValue(1 / 1001, 1000), 'p = 0.0010 (floor 1/1001)');
  });

  test('estimator siblings: same models, layers and settings but the estimator, in a fixed order', () => {
    assert.deepEqual(
      estimatorSiblings([MAIN, BIASED, OTHER], MAIN).map((c) => c.name),
      ['a-vs-b-biased', 'a-vs-b'],
    );
    assert.deepEqual(estimatorSiblings([MAIN, OTHER], MAIN), []);
    const otherSeed = comparison('seed', { estimator: 'debiased', settings: { ...SETTINGS, estimator: 'debiased', seed: 1 } });
    assert.deepEqual(estimatorSiblings([MAIN, otherSeed], MAIN), []);
  });

  test('histogram bins: about √n equal bins over the finite values', () => {
    assert.deepEqual(histogram([0.1, 0.2, 0.3, 0.4, null]), { labels: ['0.100–0.250', '0.250–0.400'], counts: [2, 2], n: 4 });
    assert.deepEqual(histogram([0.5, 0.5]).counts, [2]);
    assert.deepEqual(histogram([null]).counts, []);
  });

  test('saved toggles and cell are parsed; malformed ones are dropped', () => {
    const state = { version: 1, heatmapOptions: { significanceLevel: 0.01, calibrated: true }, selectedCell: { comparison: 'x', row: 1, column: 2 } };
    assert.deepEqual(parsePanelState(state), { ...state, snapshot: undefined, picked: undefined, scrollY: undefined });
    const bad = parsePanelState({ version: 1, heatmapOptions: { significanceLevel: 0.5, calibrated: true }, selectedCell: { comparison: 'x', row: -1, column: 2 } });
    assert.deepEqual([bad?.heatmapOptions, bad?.selectedCell], [undefined, undefined]);
  });

  test('a result whose test or details do not have the heatmap\'s shape is rejected', () => {
    assert.ok(isComparisonResult(MAIN));
    assert.ok(!isComparisonResult({ ...MAIN, significance: { ...MAIN.significance!, pValue: [[0.5]] } }));
    assert.ok(!isComparisonResult({ ...MAIN, details: { ...MAIN.details!, perBatch: [] } }));
    assert.ok(!isComparisonResult({ ...MAIN, details: { ...MAIN.details!, top: grid(() => [{ example: -1, share: 0 }]) } }));
  });
});
