import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpz } from '../../src/engine/io/npz.js';
import { assertMatrixClose, FIXTURES, loadJson } from '../helpers/fixtures.js';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const MODEL_A = join(FIXTURES, 'cka', 'model_a.npz');
const MODEL_B = join(FIXTURES, 'cka', 'model_b.npz');

function repsim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, '--backend', process.env.REPSIM_TEST_BACKEND ?? 'auto', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Reference {
  layers: { namesA: string[]; namesB: string[]; cases: Record<string, unknown> };
}

const reference = loadJson<Reference>('cka/reference.json').layers;
let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'repsim-cli-'));
});

function writeLayers(name: string, layers: Record<string, { shape: number[]; data: Float32Array }>): string {
  const path = join(work, name);
  writeFileSync(path, encodeNpz(Object.entries(layers).map(([layer, array]) => ({ name: layer, array }))));
  return path;
}

describe('repsim cka', () => {
  test('writes JSON and CSV that agree with the float64 NumPy reference', () => {
    const json = join(work, 'out.json');
    const csv = join(work, 'out.csv');
    const run = repsim('cka', MODEL_A, MODEL_B, '--kernel', 'rbf', '--threshold', '0.5', '--estimator', 'debiased', '--json', json, '--csv', csv, '--quiet');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    assert.deepEqual(result.layersA, reference.namesA);
    assert.deepEqual(result.layersB, reference.namesB);
    assertMatrixClose(result.matrix, reference.cases['rbf:0.5/debiased'] as number[][], 1e-4, 'json');
    assert.equal(result.estimator, 'debiased');
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(lines[0], `layer,${reference.namesB.join(',')}`);
    assert.equal(lines.length, 1 + reference.namesA.length);
    assert.equal(Number(lines[1].split(',')[1]).toFixed(6), result.matrix[0][0].toFixed(6));
  });

  test('minibatch with standard errors is the default; the table goes to stdout', () => {
    const json = join(work, 'mini.json');
    const run = repsim('cka', MODEL_A, MODEL_B, '--batch-size', '64', '--json', json);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    const expected = reference.cases['linear/minibatch64'] as { matrix: number[][]; stderr: number[][] };
    assertMatrixClose(result.matrix, expected.matrix, 1e-4, 'minibatch');
    assertMatrixClose(result.stderr, expected.stderr, 1e-4, 'stderr');
    assert.equal(result.batches, 5);
    assert.match(run.stderr, /^repsim: ONNX Runtime (\w+)( \(skipped .*\))?; grams: ONNX Runtime \1 \(\d+ threads\)$/m, 'says what computes');
    assert.match(result.backend, /^onnx-(cpu|cuda|dml|coreml)$/);
    // --backend with a TensorFlow.js name runs everything there, to the same numbers.
    const tfjsJson = join(work, 'mini-tfjs.json');
    const tfjs = repsim('cka', MODEL_A, MODEL_B, '--batch-size', '64', '--json', tfjsJson, '--backend', 'wasm');
    assert.equal(tfjs.status, 0, tfjs.stderr);
    assert.match(tfjs.stderr, /TensorFlow\.js wasm \(ONNX Runtime not used: --backend wasm runs everything on TensorFlow\.js/);
    const onTfjs = JSON.parse(readFileSync(tfjsJson, 'utf8'));
    assert.equal(onTfjs.backend, 'wasm');
    assertMatrixClose(onTfjs.matrix, result.matrix, 1e-5, 'tfjs vs onnx');
    const table = repsim('cka', MODEL_A, MODEL_B, '--estimator', 'biased', '--quiet');
    assert.equal(table.status, 0);
    assert.match(table.stdout, /block1\/relu\s+0\.362\s+0\.280/);
  });

  test('a zero-variance layer is null in the JSON, with a warning naming it', () => {
    const n = 40;
    const varied = Float32Array.from({ length: n * 3 }, (_, i) => Math.sin(i));
    const path = writeLayers('dead.npz', { ok: { shape: [n, 3], data: varied }, dead: { shape: [n, 2], data: new Float32Array(n * 2) } });
    const json = join(work, 'dead.json');
    const run = repsim('cka', path, path, '--estimator', 'biased', '--json', json);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    assert.deepEqual(result.matrix[1], [null, null]);
    assert.match(run.stderr, /warning: .*'dead' has zero variance/);
  });
});

describe('repsim match', () => {
  test('finds a planted shared subspace and writes the documented JSON', () => {
    const n = 300;
    const u = Array.from({ length: n }, (_, i) => Math.sin(0.37 * i) + 0.2 * Math.cos(1.3 * i));
    const v = Array.from({ length: n }, (_, i) => Math.cos(0.11 * i * i));
    const noise = (seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 * (i + 1)) * 43758.5453 % 1);
    const [na, nb] = [noise(1), noise(2)];
    // A: [u, v, noise]; B: [u + v, u − v, other noise]. The shared span is {u, v}.
    const a = Float32Array.from({ length: n * 3 }, (_, k) => [u, v, na][k % 3][Math.floor(k / 3)]);
    const b = Float32Array.from({ length: n * 3 }, (_, k) => {
      const i = Math.floor(k / 3);
      return [u[i] + v[i], u[i] - v[i], nb[i]][k % 3];
    });
    const pathA = writeLayers('match_a.npz', { conv: { shape: [n, 3], data: a } });
    const pathB = writeLayers('match_b.npz', { conv: { shape: [n, 3], data: b } });
    const json = join(work, 'match.json');
    const run = repsim('match', pathA, pathB, '--epsilon', '0.1', '--json', json);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    assert.deepEqual(result.a, [0, 1]);
    assert.deepEqual(result.b, [0, 1]);
    assert.ok(Math.abs(result.similarity - 4 / 6) < 1e-12);
    assert.ok(Array.isArray(result.simpleMatches) && result.simpleMatches.length > 0);
    for (const m of result.simpleMatches) assert.ok(Array.isArray(m.a) && Array.isArray(m.b));
  });
});

describe('bad input: one clear line naming the input, non-zero exit, nothing written', () => {
  // Failed work exits 1; an option value out of range is a usage error (exit 2).
  const cases: [string, () => string[], RegExp, number?][] = [
    ['a missing file', () => ['cka', join(work, 'nope.npz'), MODEL_B], /nope\.npz: no such file/],
    ['a corrupt archive', () => ['cka', join(FIXTURES, 'npy', 'invalid_corrupt.npz'), MODEL_B], /invalid_corrupt\.npz/],
    ['a truncated archive', () => ['cka', MODEL_A, join(FIXTURES, 'npy', 'invalid_truncated.npz')], /invalid_truncated\.npz/],
    ['an unsupported dtype', () => ['cka', join(FIXTURES, 'npy', 'invalid_complex128.npy'), MODEL_B], /invalid_complex128\.npy.*complex/],
    ['mismatched example counts', () => ['cka', MODEL_A, join(work, 'short.npz')], /short\.npz:x has 10 examples but .*model_a\.npz:block1\/relu has 320/],
    ['a NaN value', () => ['cka', join(work, 'nan.npz'), MODEL_B], /nan\.npz:bad: value at \[3, 1\] is NaN/],
    ['an infinite value', () => ['cka', join(work, 'inf.npz'), MODEL_B], /inf\.npz:bad: value at \[0, 0\] is Infinity/],
    ['an unknown layer name', () => ['match', MODEL_A, MODEL_B, '--epsilon', '0.2', '--layer-a', 'nope', '--layer-b', 'fc1'], /model_a\.npz: no layer named 'nope' \(it has: block1\/relu, block2\/conv, head\/tanh\)/],
    ['a batch smaller than 4', () => ['cka', MODEL_A, MODEL_B, '--batch-size', '3'], /--batch-size 3: expected a number ≥ 4 \(see repsim help cka\)$/, 2],
    ['an epsilon out of range', () => ['match', MODEL_A, MODEL_B, '--epsilon', '1.5', '--layer-a', 'head/tanh', '--layer-b', 'fc1'], /--epsilon 1\.5/, 2],
    ['a bad kernel', () => ['cka', MODEL_A, MODEL_B, '--kernel', 'cosine'], /--kernel cosine: expected one of linear, rbf/, 2],
    ['one file instead of two', () => ['cka', MODEL_A], /^repsim: cka takes two activation files or models, got 1 \(see repsim help cka\)$/, 2],
  ];

  before(() => {
    writeLayers('short.npz', { x: { shape: [10, 2], data: new Float32Array(20) } });
    const nan = Float32Array.from({ length: 320 * 2 }, (_, i) => i);
    nan[3 * 2 + 1] = Number.NaN;
    writeLayers('nan.npz', { good: { shape: [320, 2], data: Float32Array.from(nan, (v) => (Number.isNaN(v) ? 0 : v)) }, bad: { shape: [320, 2], data: nan } });
    const inf = Float32Array.from({ length: 320 * 2 }, (_, i) => i);
    inf[0] = Infinity;
    writeLayers('inf.npz', { bad: { shape: [320, 2], data: inf } });
  });

  for (const [label, args, message, status = 1] of cases) {
    test(label, () => {
      const json = join(work, `${label.replace(/\W+/g, '_')}.json`);
      const run = repsim(...args(), '--json', json);
      assert.equal(run.status, status, `exit status for ${label}: ${run.stderr}`);
      const lines = run.stderr.trim().split('\n').filter((l) => !/^repsim: backend/.test(l));
      assert.equal(lines.length, 1, `one line: ${run.stderr}`);
      assert.match(lines[0], message);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(json), false, 'nothing written');
    });
  }

  test('no temporary files are left behind', () => {
    assert.deepEqual(readdirSync(work).filter((f) => f.endsWith('.tmp')), []);
  });

  test('an unknown option is a usage error (exit 2)', () => {
    const run = repsim('cka', MODEL_A, MODEL_B, '--kernal', 'rbf');
    assert.equal(run.status, 2);
    assert.equal(run.stderr, "repsim: unknown option '--kernal' (see repsim help cka)\n");
  });
});

describe('help', () => {
  const bare = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

  test('repsim with no command prints the help and exits 2', () => {
    const run = bare();
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^repsim [0-9.]+ — do these two networks learn the same things\?\n\nUsage: repsim <command> \[options\]/);
    for (const command of ['run', 'cka', 'match', 'extract', 'layers', 'backend']) assert.match(run.stderr, new RegExp(`^  repsim ${command}\\b`, 'm'));
    assert.match(run.stderr, /repsim help COMMAND, or repsim COMMAND --help/);
    const help = bare('--help');
    assert.equal(help.status, 0);
    assert.equal(help.stdout, run.stderr);
  });

  test('repsim help COMMAND and repsim COMMAND --help print that command\'s options, and only them', () => {
    for (const command of ['run', 'cka', 'match', 'extract', 'layers', 'backend']) {
      const viaHelp = bare('help', command);
      const viaOption = bare(command, '--help');
      assert.equal(viaHelp.status, 0, viaHelp.stderr);
      assert.equal(viaOption.status, 0, viaOption.stderr);
      assert.equal(viaHelp.stdout, viaOption.stdout);
      assert.match(viaHelp.stdout, new RegExp(`^repsim ${command}\\b`));
      assert.match(viaHelp.stdout, /\nGlobal options:\n {2}--backend NAME/);
      for (const other of ['run', 'cka', 'match', 'extract', 'layers', 'backend'].filter((c) => c !== command)) assert.doesNotMatch(viaHelp.stdout, new RegExp(`^ *repsim ${other}\\b`, 'm'));
    }
    assert.match(bare('help', 'run').stdout, /--data-dir DIR .*\n.*\(default: ~\/\.cache\/repsim\/data\)/);
    assert.match(bare('cka', MODEL_A, MODEL_B, '-h').stdout, /^repsim cka A B \[options\]\n/);
  });

  test('help for an unknown command, and an unknown command, are usage errors', () => {
    for (const args of [['help', 'nope'], ['nope']]) {
      const run = bare(...args);
      assert.equal(run.status, 2);
      assert.equal(run.stderr, "repsim: unknown command 'nope' (expected run, cka, match, extract, layers, backend); see repsim --help\n");
    }
  });
});

describe('repsim backend and the bin', () => {
  test('reports the backend and why faster ones were skipped; --backend forces one', () => {
    const auto = repsim('backend');
    assert.equal(auto.status, 0);
    assert.match(auto.stdout, /^compute: ONNX Runtime [0-9.]+: cpu \(CPU \(MLAS\); fastest available; \d+ threads\) — skipped cuda: /m);
    assert.match(auto.stdout, /^training: TensorFlow\.js (tensorflow-gpu|tensorflow|wasm|cpu) /m);
    const forced = spawnSync(process.execPath, [CLI, 'backend', '--backend', 'cpu'], { encoding: 'utf8' });
    assert.match(forced.stdout, /^compute: TensorFlow\.js cpu — ONNX Runtime not used: --backend cpu runs everything on TensorFlow\.js$/m);
    assert.match(forced.stdout, /^training: TensorFlow\.js cpu .*forced/m);
    const onnx = spawnSync(process.execPath, [CLI, 'backend', '--backend', 'onnx-cpu'], { encoding: 'utf8' });
    assert.match(onnx.stdout, /^compute: ONNX Runtime [0-9.]+: cpu .*forced/m);
    const coreml = spawnSync(process.execPath, [CLI, 'backend', '--backend', 'onnx-coreml'], { encoding: 'utf8' });
    assert.equal(coreml.status, 1, coreml.stderr);
    assert.match(coreml.stderr, /^repsim: ONNX Runtime provider 'coreml' cannot run here: not available on linux$/m);
    const bad = spawnSync(process.execPath, [CLI, 'backend', '--backend', 'tpu'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--backend tpu: expected one of/);
  });

  test('package.json exposes the CLI as the repsim bin', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.equal(pkg.bin.repsim, 'dist/cli.js');
    assert.match(readFileSync(CLI, 'utf8').split('\n')[0], /^#!\/usr\/bin\/env node/);
  });
});
