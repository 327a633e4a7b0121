/**
 * Checks the .vsix itself (one platform's, from scripts/package.mjs): its file list (what must
 * ship, what must not; onnxruntime-node's native binaries exactly its platform's), then,
 * unpacked outside the repository (so nothing resolves from the repository's node_modules),
 * that onnxruntime-node loads from the extension's folder and runs a model, that its compute
 * server starts on the wasm and cpu backends and runs an experiment, and that its CLI computes
 * CKA with the packaged TensorFlow.js.
 * usage: node --import tsx test/e2e/packagedServer.ts <file.vsix>
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { Done, Exit, Failed, Initialize, PROTOCOL_VERSION, Run, Shutdown, Validate, type RunSnapshot } from '../../src/protocol/index.js';
import { Results, say } from './driver/common.js';
import { TINY_MODEL_INPUT, TINY_MODEL_OUTPUT, tinyOnnxModel } from './tinyOnnxModel.js';

const vsix = process.argv[2];
const REPO = join(__dirname, '..', '..');
/** The .vsix without onnxruntime's native binaries (those are checked file by file). */
const MAX_VSIX_BYTES = 8 * 1024 * 1024;
const ORT_BIN = 'extension/node_modules/onnxruntime-node/bin/napi-v6/';

const REQUIRED = [
  'extension/package.json',
  'extension/dist/extension.js',
  'extension/dist/server.js',
  'extension/dist/cli.js',
  'extension/dist/gram-worker.js',
  'extension/media/webview.js',
  'extension/media/codicon.css',
  'extension/media/codicon.ttf',
  'extension/schemas/repsim.schema.json',
  'extension/data/fashion-mnist-subset/train-images-idx3-ubyte.gz',
  'extension/data/fashion-mnist-subset/train-labels-idx1-ubyte.gz',
  'extension/data/fashion-mnist-subset/t10k-images-idx3-ubyte.gz',
  'extension/data/fashion-mnist-subset/t10k-labels-idx1-ubyte.gz',
  'extension/data/fashion-mnist-subset/LICENSE',
  'extension/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js',
  'extension/node_modules/@tensorflow/tfjs-layers/dist/tf-layers.node.js',
  'extension/node_modules/@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.node.js',
  'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js',
  'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  'extension/node_modules/seedrandom/index.js',
  'extension/node_modules/onnxruntime-node/package.json',
  'extension/node_modules/onnxruntime-node/dist/index.js',
  'extension/node_modules/onnxruntime-node/dist/binding.js',
  'extension/node_modules/onnxruntime-common/package.json',
  'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
  'extension/node_modules/onnxruntime-common/dist/cjs/package.json',
];
const FORBIDDEN = [/^extension\/(src|test|bench|webview|scripts|examples|\.e2e|test-artifacts)\//, /\.map$/, /\.ts$/, /^extension\/node_modules\/(typescript|esbuild|@esbuild|tsx|lit|@lit|chart\.js|ajv|@types|playwright-core|@vscode|adm-zip|global-agent|onnx-proto|protobufjs)\//, /^extension\/node_modules\/onnxruntime-node\/(node_modules|lib|script)\//];

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function withServer<T>(root: string, backend: 'wasm' | 'cpu', body: (connection: ReturnType<typeof createMessageConnection>) => Promise<T>): Promise<T> {
  // cwd '/', no NODE_PATH: modules resolve from the unpacked extension only.
  const env = { ...process.env, NODE_PATH: '' };
  const child = spawn(process.execPath, [join(root, 'extension', 'dist', 'server.js')], { cwd: '/', env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.listen();
  const died = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the packaged server exited (code ${code}): ${stderr.slice(-800)}`))));
  try {
    const info = await Promise.race([connection.sendRequest(Initialize, { protocolVersion: PROTOCOL_VERSION, backend, cacheDirectory: join(root, 'cache') }), died]);
    assert(info.backend.name === backend, `asked for ${backend}, got ${info.backend.name}`);
    say(`packaged server: ${info.backend.name} (${info.backend.description})`);
    return await Promise.race([body(connection), died]);
  } finally {
    await Promise.race([connection.sendRequest(Shutdown).then(() => connection.sendNotification(Exit)), new Promise((r) => setTimeout(r, 2000))]).catch(() => undefined);
    child.kill();
    connection.dispose();
  }
}

/** Each entry's compressed size in the zip (`unzip -v`: Length Method Size Cmpr Date Time CRC-32 Name). */
function compressedSizes(zip: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of execFileSync('unzip', ['-v', zip], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n')) {
    const m = /^\s*\d+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\S+\s+[0-9a-f]{8}\s+(.+)$/.exec(line);
    if (m) sizes.set(m[2], Number(m[1]));
  }
  return sizes;
}

interface PackageScript {
  onnxruntimeBinaries(target: string, root?: string): string[];
}

async function main(): Promise<number> {
  const results = new Results();
  const root = mkdtempSync(join('/tmp', 'repsim-vsix-'));
  let target = '';
  let binaries: string[] = [];
  try {
    let entries: string[] = [];
    await results.check('vsix: lean, and holds the bundles, webview, schema, dataset, TensorFlow.js and its platform\'s onnxruntime-node', async () => {
      const size = statSync(vsix).size;
      const sizes = compressedSizes(vsix);
      entries = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
      target = /TargetPlatform="([^"]+)"/.exec(execFileSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' }))?.[1] ?? '';
      assert(target, 'the vsix names no target platform (package it with scripts/package.mjs)');
      const script = (await import(pathToFileURL(join(REPO, 'scripts', 'package.mjs')).href)) as PackageScript;
      binaries = script.onnxruntimeBinaries(target).map((file) => `extension/${file}`);
      const nativeBytes = [...sizes].filter(([name]) => name.startsWith(ORT_BIN)).reduce((sum, [, bytes]) => sum + bytes, 0);
      say(`vsix (${target}): ${(size / 1024 / 1024).toFixed(2)} MiB, ${entries.length} entries; onnxruntime binaries ${(nativeBytes / 1024 / 1024).toFixed(2)} MiB compressed`);
      assert(size - nativeBytes < MAX_VSIX_BYTES, `the vsix without onnxruntime's binaries is ${size - nativeBytes} bytes (limit ${MAX_VSIX_BYTES})`);
      const shipped = entries.filter((file) => file.startsWith(ORT_BIN)).sort();
      assert(JSON.stringify(shipped) === JSON.stringify([...binaries].sort()), `onnxruntime binaries for ${target}: expected ${binaries.join(', ') || 'none'}, got ${shipped.join(', ') || 'none'}`);
      const missing = [...REQUIRED, ...binaries].filter((file) => !entries.includes(file));
      assert(missing.length === 0, `missing from the vsix: ${missing.join(', ')}`);
      const unwanted = entries.filter((file) => FORBIDDEN.some((pattern) => pattern.test(file)));
      assert(unwanted.length === 0, `should not be in the vsix: ${unwanted.slice(0, 10).join(', ')}`);
      const manifest = JSON.parse(execFileSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8' })) as { main: string; contributes: { jsonValidation: { url: string }[] } };
      assert(entries.includes(`extension/${manifest.main.replace(/^\.\//, '')}`), `main ${manifest.main} is not in the vsix`);
      assert(entries.includes(`extension/${manifest.contributes.jsonValidation[0].url.replace(/^\.\//, '')}`), 'the jsonValidation schema is not in the vsix');
      execFileSync('unzip', ['-q', vsix, '-d', root]);
    });

    await results.check('packaged onnxruntime-node loads from the extension\'s folder and runs a model', async () => {
      const extension = join(root, 'extension');
      const model = join(root, 'tiny.onnx');
      writeFileSync(model, tinyOnnxModel());
      // As dist/server.js would: resolved from the extension's dist/, nothing else on the path.
      const probe = `const [dir, model, input] = process.argv.slice(1);
        const path = require.resolve('onnxruntime-node', { paths: [dir] });
        const ort = require(path);
        ort.InferenceSession.create(model).then(async (session) => {
          const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(JSON.parse(input)), [3]) });
          console.log(JSON.stringify({ path, y: Array.from(out.y.data), versions: ort.env.versions }));
        }).catch((error) => { console.error(error); process.exit(1); });`;
      const run = spawnSync(process.execPath, ['-e', probe, join(extension, 'dist'), model, JSON.stringify(TINY_MODEL_INPUT)], { cwd: '/', encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
      if (binaries.length === 0) {
        // No onnxruntime binary for this platform (darwin-x64): loading fails, and RepSim falls back to TensorFlow.js.
        assert(run.status !== 0 && /onnxruntime_binding\.node/.test(run.stderr), `onnxruntime-node should not load on ${target}: ${run.stdout}${run.stderr.slice(-400)}`);
        return;
      }
      assert(run.status === 0, `onnxruntime-node failed in the unpacked extension (exit ${run.status}): ${run.stderr.slice(-800)}`);
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!) as { path: string; y: number[]; versions: Record<string, string> };
      assert(result.path.startsWith(join(extension, 'node_modules', 'onnxruntime-node')), `onnxruntime-node resolved outside the extension: ${result.path}`);
      assert(JSON.stringify(result.y) === JSON.stringify(TINY_MODEL_OUTPUT), `x + x gave ${JSON.stringify(result.y)}`);
      say(`packaged onnxruntime-node ${result.versions.node} (${target}): x + x = ${JSON.stringify(result.y)}`);
    });

    await results.check('packaged server starts on the cpu backend', async () => {
      await withServer(root, 'cpu', async () => undefined);
    });

    await results.check('packaged server (wasm) validates and runs an experiment of activation files', async () => {
      const activations = join(REPO, 'examples', 'activations');
      for (const file of ['relu_net_seed0.npz', 'relu_net_seed1.npz']) copyFileSync(join(activations, file), join(root, file));
      const experimentFile = join(root, 'packaged.repsim.json');
      const text = JSON.stringify({
        experiments: [
          {
            name: 'packaged',
            models: { s0: { activations: './relu_net_seed0.npz' }, s1: { activations: './relu_net_seed1.npz' } },
            comparisons: [{ a: 's0', b: 's1', estimator: 'debiased' }],
          },
        ],
      });
      writeFileSync(experimentFile, text);
      await withServer(root, 'wasm', async (connection) => {
        const { issues } = await connection.sendRequest(Validate, { text, filePath: experimentFile });
        assert(issues.length === 0, `unexpected issues: ${JSON.stringify(issues)}`);
        const done = new Promise<RunSnapshot>((resolve, reject) => {
          connection.onNotification(Done, ({ snapshot }) => resolve(snapshot));
          connection.onNotification(Failed, ({ error }) => reject(new Error(`the run failed: ${error}`)));
        });
        await connection.sendRequest(Run, { filePath: experimentFile });
        const snapshot = await done;
        assert(snapshot.comparisons.length === 1 && snapshot.comparisons[0].matrix.length > 0, 'no comparison in the results');
        assert(existsSync(join(root, 'repsim-results', 'packaged', 'results.json')), 'no results.json written');
      });
    });

    await results.check('packaged CLI computes CKA with the packaged TensorFlow.js', async () => {
      const out = join(root, 'cka.json');
      const cli = spawnSync(process.execPath, [join(root, 'extension', 'dist', 'cli.js'), 'cka', join(root, 'relu_net_seed0.npz'), join(root, 'relu_net_seed1.npz'), '--json', out], { cwd: '/', encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
      assert(cli.status === 0, `repsim cka exited ${cli.status}: ${cli.stderr.slice(-800)}`);
      const result = JSON.parse(readFileSync(out, 'utf8')) as { matrix: number[][] };
      assert(result.matrix.length > 0 && result.matrix.every((row) => row.every((v) => v === null || (v >= -1e-6 && v <= 1 + 1e-6))), 'CKA values out of [0, 1]');
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`packaged: ${results.passed} passed, ${results.failed} failed`);
  return results.failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.log(`e2e-check FAIL packaged checks: ${(error as Error)?.stack ?? error}`);
    process.exit(1);
  },
);
