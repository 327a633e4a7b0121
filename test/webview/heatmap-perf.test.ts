/**
 * The heatmap at 350 × 350 layers (122,500 cells) in Chromium: how long one batch's update
 * takes, in the same Chart instance. Prints the timings; the bound asserted is generous (the
 * machine may be shared and slow), to catch a return to per-cell drawing (over a second).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
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

test(`heatmap update time at ${LAYERS} × ${LAYERS} layers`, { skip: NO_CHROMIUM }, async (t) => {
  const panel = await openPanel(browser, server, { width: 1200, height: 1000 });
  // Messages are built in the page: shipping 2 × 122,500 cells through the test driver would measure the driver.
  const timings = await panel.page.evaluate(
    async ([layers, updates]) => {
      const names = Array.from({ length: layers }, (_, k) => `stage${Math.floor(k / 50)}.block${k % 50}.conv`);
      const grid = (f: (i: number, j: number) => number | null) => names.map((_, i) => names.map((__, j) => f(i, j)));
      const cka = (batch: number) => ({
        layersA: names,
        layersB: names,
        matrix: grid((i, j) => (i === j + 1 ? null : Math.abs(Math.cos((i - j) / 40 + batch / 3)))),
        stderr: grid(() => 0.01 / batch),
        batchesDone: batch,
        totalBatches: updates + 1,
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
    [LAYERS, UPDATES] as const,
  );
  const probe = await probeHeatmap(panel.page);
  assert.equal(probe.dataLength, LAYERS * LAYERS);
  assert.ok(timings.sameChart, 'the chart was re-created');

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
    `${LAYERS} × ${LAYERS} layers (${probe.dataLength} cells), ${UPDATES} batch updates:`,
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
