/**
 * The heatmap at 350 × 350 layers (122,500 cells) in Chromium: how long one batch's update
 * takes, in the same Chart instance. Prints the timings; the bound asserted is generous (the
 * machine may be shared and slow), to catch a return to per-cell drawing (over a second).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { DIMMED_ALPHA } from '../../webview/charts/cellBitmap.js';
import { assertBuilt, NO_CHROMIUM, launchChromium, openPanel, probeHeatmap, startPanelServer, type PanelServer } from './harness.js';

const LAYERS = 350;
const UPDATES = 8;

let browser: Browser;
let server: PanelServer;

before(async () => {
  if (NO_CHROMIUM) return;
  assertBuilt();
  browser = await launchChromium();
  server = await startPanelServer();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

for (const withSignificance of [false, true]) {
  test(`heatmap update time at ${LAYERS} × ${LAYERS} layers${withSignificance ? ', with a permutation test and cells dimmed at p ≤ 0.05' : ''}`, { skip: NO_CHROMIUM }, async (t) => {
    // With significance, the panel starts with the 0.05 level on (as restored from saved state).
    const state = withSignificance ? { version: 1, heatmapOptions: { significanceLevel: 0.05, calibrated: false } } : undefined;
    const panel = await openPanel(browser, server, { width: 1200, height: 1000, state });
    // Messages are built in the page: shipping 2 × 122,500 cells through the test driver would measure the driver.
    const timings = await panel.page.evaluate(
      async ([layers, updates, significant]) => {
        const names = Array.from({ length: layers }, (_, k) => `stage${Math.floor(k / 50)}.block${k % 50}.conv`);
        const grid = (f: (i: number, j: number) => number | null) => names.map((_, i) => names.map((__, j) => f(i, j)));
        const cka = (batch: number) => ({
          layersA: names,
          layersB: names,
          matrix: grid((i, j) => (i === j + 1 ? null : Math.abs(Math.cos((i - j) / 40 + batch / 3)))),
          stderr: grid(() => 0.01 / batch),
          batchesDone: batch,
          totalBatches: updates + 1,
          ...(significant
            ? {
                significance: {
                  permutations: 100,
                  seed: 0,
                  method: 'perf',
                  nullMean: grid(() => 0.05),
                  nullStd: grid(() => 0.01),
                  pValue: grid((i, j) => ((i + j + batch) % 3 === 0 ? 0.2 : 1 / 101)),
                  calibrated: grid((i, j) => Math.abs(Math.cos((i - j) / 40 + batch / 3)) - 0.05),
                },
              }
            : {}),
        });
        const runId = 'perf';
        const app = document.querySelector('repsim-app') as HTMLElement & { updateComplete: Promise<unknown> };
        const deep = (selector: string) => app.shadowRoot!.querySelector(selector) as HTMLElement & { updateComplete: Promise<unknown>; lastUpdateMs: number; chart: unknown };
        const deliver = async (message: unknown) => {
          const started = performance.now();
          window.postMessage(message, '*');
          await new Promise((resolve) => setTimeout(resolve, 0));
          await app.updateComplete;
          await deep('repsim-heatmap').updateComplete;
          return performance.now() - started;
        };
        const first = await deliver({
          type: 'snapshot',
          snapshot: { runId, experiment: 'perf', status: 'running', models: [], training: {}, comparisons: [], partial: { comparison: 'deep-vs-deep', a: 'deep-a', b: 'deep-b', cka: cka(1) } },
        });
        const chart = deep('repsim-heatmap').chart;
        const updates_: { endToEnd: number; heatmap: number }[] = [];
        for (let batch = 2; batch <= updates + 1; batch++) {
          const endToEnd = await deliver({ type: 'partial', runId, comparison: 'deep-vs-deep', a: 'deep-a', b: 'deep-b', cka: cka(batch) });
          updates_.push({ endToEnd, heatmap: deep('repsim-heatmap').lastUpdateMs });
        }
        return { first, sameChart: deep('repsim-heatmap').chart === chart, updates: updates_ };
      },
      [LAYERS, UPDATES, withSignificance] as const,
    );
    const probe = await probeHeatmap(panel.page);
    assert.equal(probe.dataLength, LAYERS * LAYERS);
    assert.ok(timings.sameChart, 'the chart was re-created');
    if (withSignificance) {
      const dimmed = await panel.page.locator('repsim-heatmap').evaluate((element, alpha) => {
        const canvas = (element as unknown as { cells: { canvas: HTMLCanvasElement } }).cells.canvas;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let k = 3; k < data.length; k += 4) if (data[k] === alpha) count++;
        return count;
      }, DIMMED_ALPHA);
      assert.ok(dimmed > LAYERS * LAYERS * 0.3, `a third of the cells dimmed (${dimmed})`);
    }

    // Hovering a cell finds it by arithmetic, not by searching 122,500 elements.
    const hoverMs = await panel.page.locator('repsim-heatmap').evaluate(async (element) => {
      const chart = (element as unknown as { chart: { canvas: HTMLCanvasElement; scales: Record<string, { getPixelForValue(v: number): number }>; tooltip: { opacity: number } } }).chart;
      const box = chart.canvas.getBoundingClientRect();
      const started = performance.now();
      chart.canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + chart.scales.x.getPixelForValue(200), clientY: box.top + chart.scales.y.getPixelForValue(100), bubbles: true }));
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return { ms: performance.now() - started, opacity: chart.tooltip.opacity };
    });

    const heatmapMs = timings.updates.map((u) => u.heatmap);
    const endToEndMs = timings.updates.map((u) => u.endToEnd);
    const line = (label: string, values: number[]) => `${label}: median ${median(values).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`;
    const report = [
      `${LAYERS} × ${LAYERS} layers (${probe.dataLength} cells)${withSignificance ? ' with significance dimming' : ''}, ${UPDATES} batch updates:`,
      `  first draw (new chart, end to end): ${timings.first.toFixed(1)} ms`,
      `  ${line('heatmap refresh (bitmap, data, chart.update + draw)', heatmapMs)}`,
      `  ${line('end to end (postMessage → validated → Lit → drawn)', endToEndMs)}`,
      `  hover → tooltip: ${hoverMs.ms.toFixed(1)} ms (two frames included)`,
    ].join('\n');
    t.diagnostic(report);
    console.log(report);
    assert.equal(hoverMs.opacity, 1, 'tooltip shown');
    assert.ok(median(heatmapMs) < 250, `heatmap refresh median ${median(heatmapMs).toFixed(1)} ms (bound 250 ms)`);
    assert.deepEqual(panel.errors, []);
    await panel.page.close();
  });
}
