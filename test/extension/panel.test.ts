import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPanelHtml, contentSecurityPolicy, createNonce, escapeHtml } from '../../src/extension/panel/panelHtml.js';
import { decodeExport, safeExportFileName } from '../../src/extension/panel/exportFile.js';
import { interruptedSnapshot, isSnapshotLike, parseResultsJson } from '../../src/extension/panel/resultsFile.js';
import { restoredSnapshot, RunEndRecord } from '../../src/extension/panel/restoreSnapshot.js';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

test('the panel HTML: strict CSP with a nonce, codicons and the module script from the extension', () => {
  const nonce = createNonce();
  assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(createNonce(), nonce);
  const html = buildPanelHtml({ cspSource: CSP_SOURCE, nonce, scriptUri: `${CSP_SOURCE}/ext/media/webview.js`, codiconCssUri: `${CSP_SOURCE}/ext/media/codicon.css`, title: 'RepSim: <quick>' });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.equal(csp, `default-src 'none'; img-src ${CSP_SOURCE} data:; style-src ${CSP_SOURCE}; font-src ${CSP_SOURCE}; script-src 'nonce-${nonce}'`.replace(/'/g, '&#39;'));
  assert.equal(contentSecurityPolicy('X', 'n').includes("'unsafe-inline'"), false);
  assert.ok(html.includes(`<script type="module" nonce="${nonce}" src="${CSP_SOURCE}/ext/media/webview.js"></script>`));
  assert.match(html, /<link id="vscode-codicon-stylesheet" rel="stylesheet" href="[^"]+\/media\/codicon.css">/);
  assert.match(html, /<title>RepSim: &lt;quick&gt;<\/title>/);
  // Every script carries the nonce; there is no inline script or inline style.
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.equal(/style=|<style/.test(html), false);
  assert.throws(() => buildPanelHtml({ cspSource: CSP_SOURCE, nonce: "x' 'unsafe-inline", scriptUri: '', codiconCssUri: '', title: '' }), /base64/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

test('exports: PNG data URLs decoded and checked, SVG checked to be an SVG document, text as UTF-8, file names made safe', () => {
  const png = decodeExport({ type: 'export', format: 'png', comparison: 'a-vs-b', fileName: 'a-vs-b.png', data: `data:image/png;base64,${PNG_1x1}` });
  assert.equal(png.fileName, 'a-vs-b.png');
  assert.deepEqual([...png.bytes.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.deepEqual(png.filters, { 'PNG image': ['png'] });
  assert.throws(() => decodeExport({ type: 'export', format: 'png', comparison: 'c', fileName: 'c.png', data: 'data:image/jpeg;base64,AAAA' }), /not a PNG data URL/);
  assert.throws(() => decodeExport({ type: 'export', format: 'png', comparison: 'c', fileName: 'c.png', data: 'data:image/png;base64,AAAA' }), /not a PNG/);
  const csv = decodeExport({ type: 'export', format: 'csv', comparison: 'c', fileName: 'c.csv', data: 'layer,a\nx,0.5\n' });
  assert.equal(Buffer.from(csv.bytes).toString('utf8'), 'layer,a\nx,0.5\n');
  const svgText = '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>a &amp; b</title></svg>\n';
  const svg = decodeExport({ type: 'export', format: 'svg', comparison: 'c', fileName: 'c.svg', data: svgText });
  assert.equal(Buffer.from(svg.bytes).toString('utf8'), svgText);
  assert.deepEqual(svg.filters, { 'SVG image': ['svg'] });
  assert.equal(decodeExport({ type: 'export', format: 'svg', comparison: 'c', fileName: 'c', data: '<svg xmlns="http://www.w3.org/2000/svg"/></svg>' }).fileName, 'c.svg');
  for (const data of ['<html><svg xmlns="http://www.w3.org/2000/svg"></svg></html>', ' <script>alert(1)</script>', '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"></html>', '<svg width="1"></svg>', '<svg xmlns="http://www.w3.org/2000/svg">']) {
    assert.throws(() => decodeExport({ type: 'export', format: 'svg', comparison: 'c', fileName: 'c.svg', data }), /not an SVG document/, data);
  }
  assert.equal(safeExportFileName('../../etc/passwd', 'json', 'c'), 'passwd.json');
  assert.equal(safeExportFileName('..\\..\\x:y?.csv', 'csv', 'c'), 'x_y_.csv');
  assert.equal(safeExportFileName('', 'png', 'seed0 vs seed1'), 'seed0_vs_seed1.png');
  assert.equal(safeExportFileName('.hidden', 'csv', 'c'), 'hidden.csv');
});

const SNAPSHOT = { runId: 'run-1', experiment: 'quick', status: 'running', models: [], training: {}, comparisons: [], progress: { phase: 'compare', label: 'x', step: 1, total: 2 } };

test('results.json: parsed and checked; a restored live run becomes interrupted', () => {
  assert.equal(isSnapshotLike(SNAPSHOT), true);
  assert.equal(isSnapshotLike({ ...SNAPSHOT, status: 'weird' }), false);
  assert.equal(isSnapshotLike({ ...SNAPSHOT, comparisons: {} }), false);
  assert.equal(isSnapshotLike(null), false);
  assert.equal(parseResultsJson(JSON.stringify(SNAPSHOT), 'r.json').runId, 'run-1');
  assert.throws(() => parseResultsJson('{', 'r.json'), /r.json is not valid JSON/);
  assert.throws(() => parseResultsJson('{"a":1}', 'r.json'), /not a RepSim results file/);
  const restored = interruptedSnapshot(SNAPSHOT as never);
  assert.equal(restored.status, 'failed');
  assert.equal(restored.progress, undefined);
  assert.match(restored.error ?? '', /interrupted/);
  const done = { ...SNAPSHOT, status: 'done' } as never;
  assert.equal(interruptedSnapshot(done), done);
});

test("a panel restored after a reload: the run's results.json has the last word when it is that run's", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repsim-restore-'));
  try {
    const file = join(dir, 'a.repsim.json');
    writeFileSync(file, '// x\n{ "experiments": [ { "name": "quick", "output": "out/q", "models": {}, "comparisons": [] } ] }');
    const saved = { ...SNAPSHOT, experiment: 'quick', file } as never;
    // Nothing on disk: interrupted.
    assert.equal((await restoredSnapshot(saved)).status, 'failed');
    mkdirSync(join(dir, 'out', 'q'), { recursive: true });
    writeFileSync(join(dir, 'out', 'q', 'results.json'), JSON.stringify({ ...SNAPSHOT, experiment: 'quick', status: 'cancelled', progress: undefined }));
    assert.equal((await restoredSnapshot(saved)).status, 'cancelled');
    // Results of another run of the experiment are not this run's end.
    writeFileSync(join(dir, 'out', 'q', 'results.json'), JSON.stringify({ ...SNAPSHOT, runId: 'run-2', experiment: 'quick', status: 'done' }));
    assert.match((await restoredSnapshot(saved)).error ?? '', /interrupted/);
    // A finished saved snapshot is shown as saved.
    const done = { ...SNAPSHOT, status: 'done' } as never;
    assert.equal(await restoredSnapshot(done), done);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run that ended with nothing to keep (no results folder) is restored as it ended, from the recorded end', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repsim-restore-'));
  try {
    const file = join(dir, 'a.repsim.json');
    writeFileSync(file, '{ "experiments": [ { "name": "quick", "models": {}, "comparisons": [] } ] }');
    const saved = { ...SNAPSHOT, experiment: 'quick', file } as never;
    const values = new Map<string, unknown>();
    const record = new RunEndRecord({ get: <T>(key: string, fallback: T) => (values.get(key) as T) ?? fallback, update: async (key, value) => void values.set(key, value) }, 2);
    await record.record('run-1', { status: 'cancelled', error: 'cancelled', finishedAt: '2024-05-01T10:05:00.000Z' });
    const restored = await restoredSnapshot(saved, record.get('run-1'));
    assert.deepEqual([restored.status, restored.error, restored.progress, restored.finishedAt], ['cancelled', 'cancelled', undefined, '2024-05-01T10:05:00.000Z']);
    assert.equal((await restoredSnapshot(saved, record.get('run-9'))).status, 'failed', 'unknown run: interrupted');
    // Only the latest runs are kept.
    await record.record('run-2', { status: 'done' });
    await record.record('run-3', { status: 'failed', error: 'x' });
    assert.deepEqual([record.get('run-1'), record.get('run-2')?.status, record.get('run-3')?.error], [undefined, 'done', 'x']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
