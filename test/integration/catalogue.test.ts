/**
 * The catalogue of bad and hard inputs (issue 10): one table, each row an input RepSim is given
 * through the CLI (`repsim cka`/`match`/`run`, which runs experiment files on the compute server)
 * or a request to the server itself, and what it must do with it: the right value, or one clear
 * line naming the file, layer or JSON path, a non-zero exit, and no partial files.
 * "Read-only" and "full" output folders are simulated so that they also hold for root: a path
 * whose parent is a file, a file in place of the folder, and REPSIM_TEST_FAIL_WRITES (a test-only
 * hook in writeFileAtomic that fails matching writes with ENOSPC).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { encodeNpz } from '../../src/engine/io/npz.js';
import { encodeNpy } from '../../src/engine/io/npy.js';
import { seededRandom } from '../../src/engine/random.js';
import { saveLayersModel } from '../../src/engine/train/index.js';
import { Cancel, GetResults, INPUT_ERROR_CODE, Run, Validate } from '../../src/protocol/index.js';
import { launchServer, type LaunchedServer } from '../../src/server/launcher.js';
import { testBackend } from '../helpers/backend.js';
import { FIXTURES } from '../helpers/fixtures.js';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const N = 200;
let work: string;

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function repsim(args: string[], env: Record<string, string> = {}): Outcome {
  const result = spawnSync(process.execPath, [CLI, '--backend', process.env.REPSIM_TEST_BACKEND ?? 'auto', ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const at = (name: string) => join(work, name);
const layer = (name: string, shape: number[], data: Float32Array) => ({ name, array: { shape, data } });
const npz = (name: string, layers: ReturnType<typeof layer>[]) => writeFileSync(at(name), encodeNpz(layers));
const npyHeader = (descr: string, shape: number[]) => {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const header = dict.padEnd(118 - 1, ' ') + '\n';
  return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, header.length & 0xff, header.length >> 8]), Buffer.from(header, 'latin1')]);
};

function experiment(name: string, body: object, extra: object = {}): string {
  const path = at(`${name}.repsim.json`);
  writeFileSync(path, `// catalogue\n${JSON.stringify({ version: 1, experiments: [{ name, ...body }], ...extra }, null, 1)}\n`);
  return path;
}

const acts = { models: { a: { activations: './base.npz' }, b: { activations: './hard.npz' } }, comparisons: [{ name: 'ab', a: 'a', b: 'b', batchSize: 50 }] };

/** CKA of layer `row` of the JSON written at `path` against column 0. */
const cell = (path: string, row: string, column = 'z') => {
  const result = JSON.parse(readFileSync(path, 'utf8'));
  return result.matrix[result.layersA.indexOf(row)][result.layersB.indexOf(column)];
};

interface Row {
  readonly name: string;
  /** The command line; `OUT` stands for this row's --json file. */
  readonly args: string[];
  readonly env?: Record<string, string>;
  readonly exit: number;
  /** The last line of stderr (errors) or any line (warnings). */
  readonly stderr?: RegExp;
  readonly check?: (out: Outcome, json: string) => void;
  /** Files that must not exist afterwards (relative to the work folder). */
  readonly absent?: string[];
}

const close = (value: number | null, expected: number, tolerance: number, what: string) => assert.ok(value !== null && Math.abs(value - expected) <= tolerance, `${what}: ${value}, expected ${expected} ± ${tolerance}`);

const ROWS: Row[] = [
  // Activation files: malformed and truncated.
  { name: 'a missing file', args: ['cka', 'nope.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /^repsim: nope\.npz: no such file/ },
  { name: 'a folder named like an activation file', args: ['cka', 'folder.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /folder\.npz/ },
  { name: 'an empty .npz', args: ['cka', 'empty.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /empty\.npz/ },
  { name: 'a text file named .npz', args: ['cka', 'text.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /text\.npz/ },
  { name: 'a truncated .npz', args: ['cka', 'base.npz', 'truncated.npz', '--json', 'OUT'], exit: 1, stderr: /truncated\.npz/ },
  { name: 'a .npy with a bad magic string', args: ['cka', 'magic.npy', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /magic\.npy/ },
  { name: 'a .npy whose header is cut off', args: ['cka', 'cutheader.npy', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /cutheader\.npy/ },
  { name: 'a .npy with fewer values than its shape', args: ['cka', 'short.npy', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /short\.npy/ },
  { name: 'an object-dtype .npy (pickles)', args: ['cka', 'object.npy', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /object\.npy/ },
  { name: 'a complex dtype', args: ['cka', join(FIXTURES, 'npy', 'invalid_complex128.npy'), 'base.npz', '--json', 'OUT'], exit: 1, stderr: /invalid_complex128\.npy.*complex/ },
  // Values.
  { name: 'a NaN value', args: ['cka', 'nan.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /nan\.npz:bad: value at \[7, 2\] is NaN/ },
  { name: 'an infinite value', args: ['cka', 'inf.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /inf\.npz:bad: value at \[0, 0\] is -Infinity/ },
  {
    name: 'a constant layer: undefined (null), with a warning naming it',
    args: ['cka', 'hard.npz', 'base.npz', '--json', 'OUT'],
    exit: 0,
    stderr: /warning: .*constant/,
    check: (_, json) => assert.equal(cell(json, 'constant'), null),
  },
  { name: 'a near-constant layer (100 + 0.01·z): centred exactly enough for CKA 1', args: ['cka', 'hard.npz', 'base.npz', '--json', 'OUT'], exit: 0, check: (_, json) => close(cell(json, 'nearConstant'), 1, 1e-3, 'nearConstant') },
  { name: 'a huge scale (1e30·z): CKA 1, no overflow', args: ['cka', 'hard.npz', 'base.npz', '--json', 'OUT'], exit: 0, check: (_, json) => close(cell(json, 'huge'), 1, 1e-4, 'huge') },
  { name: 'a tiny scale (1e-30·z): CKA 1, no underflow', args: ['cka', 'hard.npz', 'base.npz', '--json', 'OUT'], exit: 0, check: (_, json) => close(cell(json, 'tiny'), 1, 1e-4, 'tiny') },
  { name: 'huge and tiny scales with the debiased estimator', args: ['cka', 'hard.npz', 'base.npz', '--estimator', 'debiased', '--json', 'OUT'], exit: 0, check: (_, json) => (close(cell(json, 'huge'), 1, 1e-4, 'huge'), close(cell(json, 'tiny'), 1, 1e-4, 'tiny')) },
  { name: 'huge scale with the RBF kernel', args: ['cka', 'hard.npz', 'base.npz', '--kernel', 'rbf', '--json', 'OUT'], exit: 0, check: (_, json) => close(cell(json, 'huge'), 1, 1e-3, 'huge') },
  // Batches and example counts.
  { name: 'a batch below 4', args: ['cka', 'base.npz', 'base.npz', '--batch-size', '3', '--json', 'OUT'], exit: 2, stderr: /--batch-size 3: expected a number ≥ 4/ },
  { name: 'three examples in all', args: ['cka', 'three.npz', 'three.npz', '--json', 'OUT'], exit: 1, stderr: /three\.npz: 3 examples; minibatch CKA needs at least 4/ },
  { name: 'three examples, debiased', args: ['cka', 'three.npz', 'three.npz', '--estimator', 'debiased', '--json', 'OUT'], exit: 1, stderr: /three\.npz: 3 examples; debiased CKA needs at least 4/ },
  { name: 'mismatched example counts', args: ['cka', 'base.npz', 'three.npz', '--json', 'OUT'], exit: 1, stderr: /three\.npz:x has 3 examples but .*base\.npz:z has 200/ },
  { name: 'duplicated layer names in one archive', args: ['cka', 'duplicate.npz', 'base.npz', '--json', 'OUT'], exit: 1, stderr: /duplicate\.npz.*'z'/ },
  { name: 'an unknown layer', args: ['match', 'base.npz', 'hard.npz', '--epsilon', '0.2', '--layer-a', 'z', '--layer-b', 'nope', '--json', 'OUT'], exit: 1, stderr: /hard\.npz: no layer named 'nope'/ },
  // Outputs that cannot be written: nothing left behind, one line naming the file.
  { name: 'an output folder that does not exist', args: ['cka', 'base.npz', 'base.npz', '--json', 'missing/out.json'], exit: 1, stderr: /missing\/out\.json: cannot write \(its folder does not exist\)$/ },
  { name: 'an output folder that is a file (a locked folder)', args: ['cka', 'base.npz', 'base.npz', '--json', 'afile/out.json'], exit: 1, stderr: /afile\/out\.json: cannot write \(part of its path is a file, not a folder\)$/ },
  { name: 'an output file that is a folder', args: ['cka', 'base.npz', 'base.npz', '--csv', 'folder'], exit: 1, stderr: /folder: cannot write \(it is a folder\)$/ },
  { name: 'a full disk (a failing write)', args: ['cka', 'base.npz', 'base.npz', '--json', 'OUT'], env: { REPSIM_TEST_FAIL_WRITES: 'full-disk' }, exit: 1, stderr: /full-disk.*\.json: cannot write \(the disk is full\)$/ },
  // Experiment files, through repsim run and the compute server.
  { name: 'an experiment file with a syntax error', args: ['run', 'syntax.repsim.json'], exit: 1, stderr: /^repsim: syntax\.repsim\.json: line 3, column \d+: invalid JSON/ },
  { name: 'a truncated experiment file', args: ['run', 'cut.repsim.json'], exit: 1, stderr: /^repsim: cut\.repsim\.json: line \d+, column \d+: invalid JSON/ },
  { name: 'an empty experiment file', args: ['run', 'blank.repsim.json'], exit: 1, stderr: /^repsim: blank\.repsim\.json: / },
  { name: 'a missing experiment file', args: ['run', 'gone.repsim.json'], exit: 1, stderr: /^repsim: gone\.repsim\.json: no such file$/ },
  { name: 'an unknown model id', args: ['run', 'unknown-id.repsim.json'], exit: 1, stderr: /unknown-id\.repsim\.json: .*experiments\[0\]\.comparisons\[0\]\.b: unknown model 'c'/ },
  { name: 'an unknown experiment name', args: ['run', 'acts.repsim.json', '--experiment', 'nope'], exit: 1, stderr: /acts\.repsim\.json.*'nope'/ },
  { name: 'a comparison batch below 4', args: ['run', 'batch3.repsim.json'], exit: 1, stderr: /experiments\[0\]\.comparisons\[0\]\.batchSize/ },
  { name: 'duplicated comparison names', args: ['run', 'twins.repsim.json'], exit: 1, stderr: /experiments\[0\]\.comparisons\[1\]\.name: .*'ab'/ },
  { name: 'duplicated experiment names', args: ['run', 'twin-experiments.repsim.json'], exit: 1, stderr: /experiments\[1\]\.name/ },
  { name: 'an output that escapes the folder', args: ['run', 'escape.repsim.json'], exit: 1, stderr: /experiments\[0\]\.output: .*outside/, absent: ['../escaped'] },
  { name: 'missing activation files', args: ['run', 'no-acts.repsim.json'], exit: 1, stderr: /experiments\[0\]\.models\.a\.activations: no such file: .*absent\.npz/ },
  { name: 'a NaN in an experiment’s activations', args: ['run', 'nan-run.repsim.json'], exit: 1, stderr: /nan\.npz:bad: value at \[7, 2\] is NaN/, absent: ['repsim-results/nan-run'] },
  { name: 'mismatched example counts in an experiment', args: ['run', 'mismatch-run.repsim.json'], exit: 1, stderr: /mismatch-run failed: model 'b' layer 'z' has 200 examples but model 'a' layer 'x' has 3/, absent: ['repsim-results/mismatch-run'] },
  { name: 'a TF.js model.json that is not JSON', args: ['run', 'tfjs-syntax.repsim.json'], exit: 1, stderr: /broken-json.*model\.json/ },
  { name: 'a TF.js model without its weights file', args: ['run', 'tfjs-noweights.repsim.json'], exit: 1, stderr: /no-weights.*weights\.bin/ },
  { name: 'a TF.js model with truncated weights', args: ['run', 'tfjs-truncated.repsim.json'], exit: 1, stderr: /truncated-weights/ },
  { name: 'a results folder that is a file', args: ['run', 'acts.repsim.json', '--out', 'afile'], exit: 1, stderr: /afile/ },
  {
    name: 'a full disk while writing a run’s results: finished work is kept in the cache, no partial files',
    args: ['run', 'fulldisk.repsim.json'],
    env: { REPSIM_TEST_FAIL_WRITES: 'results.json' },
    exit: 1,
    stderr: /fulldisk.*results\.json.*(no space|full)/,
    check: () => assert.deepEqual(readdirSync(at('repsim-results/fulldisk')).filter((f) => /\.tmp$|partial/.test(f)), []),
  },
];

const refused = async (promise: Promise<unknown>, message: RegExp) =>
  assert.rejects(promise, (error: Error & { code?: number }) => {
    assert.equal(error.code, INPUT_ERROR_CODE, error.message);
    assert.match(error.message, message);
    return true;
  });

const SERVER_ROWS: { name: string; run: (server: LaunchedServer) => Promise<void> }[] = [
  { name: 'server: cancel an unknown run id', run: async (s) => assert.deepEqual(await s.connection.sendRequest(Cancel, { runId: 'no-such-run' }), { cancelled: false }) },
  { name: 'server: results of an unknown run id', run: async (s) => assert.equal(await s.connection.sendRequest(GetResults, { runId: 'no-such-run' }), null) },
  { name: 'server: run a missing file', run: (s) => refused(s.connection.sendRequest(Run, { filePath: at('gone.repsim.json') }), /gone\.repsim\.json: no such file$/) },
  { name: 'server: run an unknown experiment', run: (s) => refused(s.connection.sendRequest(Run, { filePath: at('acts.repsim.json'), experiment: 'nope' }), /acts\.repsim\.json.*'nope'/) },
  {
    name: 'server: validate text naming every JSON path at fault',
    run: async (s) => {
      const text = JSON.stringify({ experiments: [{ name: 'v', models: { a: { activations: './base.npz' } }, comparisons: [{ a: 'a', b: 'zz', passes: 0 }] }] });
      const { issues } = await s.connection.sendRequest(Validate, { text, filePath: at('v.repsim.json') });
      assert.ok(issues.some((i) => i.path === 'experiments[0].comparisons[0].passes'), JSON.stringify(issues));
    },
  },
];

describe('the catalogue of bad and hard inputs', () => {
  before(async () => {
    await testBackend();
    work = mkdtempSync(join(tmpdir(), 'repsim-catalogue-'));
    const random = seededRandom(7);
    const z = Float32Array.from({ length: N * 5 }, () => random() - 0.5);
    const scaled = (f: (v: number) => number) => Float32Array.from(z, f);
    npz('base.npz', [layer('z', [N, 5], z)]);
    npz('hard.npz', [
      layer('z', [N, 5], z),
      layer('constant', [N, 3], new Float32Array(N * 3).fill(5)),
      layer('nearConstant', [N, 5], scaled((v) => 100 + 0.01 * v)),
      layer('huge', [N, 5], scaled((v) => 1e30 * v)),
      layer('tiny', [N, 5], scaled((v) => 1e-30 * v)),
    ]);
    const nan = z.slice();
    nan[7 * 5 + 2] = Number.NaN;
    npz('nan.npz', [layer('good', [N, 5], z), layer('bad', [N, 5], nan)]);
    const inf = z.slice();
    inf[0] = -Infinity;
    npz('inf.npz', [layer('bad', [N, 5], inf)]);
    npz('three.npz', [layer('x', [3, 2], Float32Array.of(1, 2, 3, 4, 5, 7))]);
    // Two entries named z.npy (np.savez cannot write this, a hand-made zip can): renamed in place.
    const twins = Buffer.from(encodeNpz([layer('z', [N, 5], z), layer('q', [N, 5], z)]));
    for (let i = twins.indexOf('q.npy'); i >= 0; i = twins.indexOf('q.npy', i)) twins.write('z', i);
    writeFileSync(at('duplicate.npz'), twins);
    writeFileSync(at('empty.npz'), '');
    writeFileSync(at('text.npz'), 'these are not the activations you are looking for\n');
    const whole = readFileSync(at('base.npz'));
    writeFileSync(at('truncated.npz'), whole.subarray(0, Math.floor(whole.length / 2)));
    const npy = Buffer.from(encodeNpy({ shape: [N, 5], data: z }));
    writeFileSync(at('magic.npy'), Buffer.concat([Buffer.from('NOTNPY'), npy.subarray(6)]));
    writeFileSync(at('cutheader.npy'), npy.subarray(0, 40));
    writeFileSync(at('short.npy'), npy.subarray(0, npy.length - 100));
    writeFileSync(at('object.npy'), Buffer.concat([npyHeader('|O', [2]), Buffer.from('\x80\x04N.')]));
    mkdirSync(at('folder'));
    mkdirSync(at('folder.npz'));
    writeFileSync(at('afile'), 'a file where a folder should be\n');

    experiment('acts', acts);
    experiment('fulldisk', acts);
    writeFileSync(at('syntax.repsim.json'), '{\n "experiments": [\n  { "name": "x", }} \n');
    const text = JSON.stringify({ version: 1, experiments: [{ name: 'cut', ...acts }] }, null, 1);
    writeFileSync(at('cut.repsim.json'), text.slice(0, Math.floor(text.length / 2)));
    writeFileSync(at('blank.repsim.json'), '');
    experiment('unknown-id', { ...acts, comparisons: [{ name: 'ab', a: 'a', b: 'c' }] });
    experiment('batch3', { ...acts, comparisons: [{ name: 'ab', a: 'a', b: 'b', batchSize: 3 }] });
    experiment('twins', { ...acts, comparisons: [{ name: 'ab', a: 'a', b: 'b' }, { name: 'ab', a: 'b', b: 'a' }] });
    writeFileSync(at('twin-experiments.repsim.json'), JSON.stringify({ version: 1, experiments: [{ name: 'same', ...acts }, { name: 'same', ...acts }] }));
    experiment('escape', { ...acts, output: '../escaped' });
    experiment('no-acts', { ...acts, models: { a: { activations: './absent.npz' }, b: { activations: './base.npz' } } });
    experiment('nan-run', { ...acts, models: { a: { activations: './nan.npz' }, b: { activations: './base.npz' } } });
    experiment('mismatch-run', { ...acts, models: { a: { activations: './three.npz' }, b: { activations: './base.npz' } } });

    // Saved TensorFlow.js models, broken three ways.
    const input = tfl.input({ shape: [28, 28, 1] });
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 10, name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(flat) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    for (const name of ['broken-json', 'no-weights', 'truncated-weights']) await saveLayersModel(model, at(join('models', name)));
    writeFileSync(at('models/broken-json/model.json'), '{"modelTopology": {');
    rmSync(at('models/no-weights/weights.bin'));
    const weights = readFileSync(at('models/truncated-weights/weights.bin'));
    writeFileSync(at('models/truncated-weights/weights.bin'), weights.subarray(0, 100));
    const savedModel = (name: string) => ({
      data: { dataset: 'fashion-mnist-subset', evaluationExamples: 32 },
      models: { m: { path: `./models/${name}` } },
      comparisons: [{ name: 'self', a: 'm', b: 'm', layers: 'all', batchSize: 16 }],
    });
    experiment('tfjs-syntax', savedModel('broken-json'));
    experiment('tfjs-noweights', savedModel('no-weights'));
    experiment('tfjs-truncated', savedModel('truncated-weights'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test(`the table holds at least 30 inputs (${ROWS.length + SERVER_ROWS.length})`, () => assert.ok(ROWS.length + SERVER_ROWS.length >= 30));

  for (const row of ROWS) {
    test(row.name, (t) => {
      const json = at(`${row.name.replace(/\W+/g, '_').slice(0, 60)}${row.env?.REPSIM_TEST_FAIL_WRITES === 'full-disk' ? '.full-disk' : ''}.json`);
      const outcome = repsim(row.args.map((a) => (a === 'OUT' ? json : a)), row.env);
      const said = `${row.args.join(' ')} →\n${outcome.stderr}`;
      t.diagnostic(outcome.stderr.trim().split('\n').at(-1) ?? '');
      assert.equal(outcome.status, row.exit, `exit status: ${said}`);
      assert.doesNotMatch(outcome.stderr, /\n\s+at |internal error/, `no stack trace or internal error: ${said}`);
      if (row.exit !== 0) {
        assert.ok(!existsSync(json), `nothing written: ${said}`);
        if (row.stderr) assert.match(outcome.stderr.trim().split('\n').at(-1)!, row.stderr, said);
      } else if (row.stderr) assert.match(outcome.stderr, row.stderr, said);
      row.check?.(outcome, json);
      for (const path of row.absent ?? []) assert.ok(!existsSync(at(path)), `${path} was not written: ${said}`);
      assert.deepEqual(readdirSync(work).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
    });
  }

  describe('requests to the compute server', () => {
    let server: LaunchedServer;
    before(async () => {
      server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    });
    after(async () => server.stop());
    for (const row of SERVER_ROWS) test(row.name, async () => row.run(server));
  });
});
