/**
 * The per-platform packages (scripts/package.mjs): for each vsce target, the file list vsce
 * itself computes (its listFiles API, as `vsce ls`) from that target's generated ignore file,
 * over the real node_modules tree. Each target carries its own onnxruntime-node binaries and
 * no other platform's; darwin-x64 carries none (TensorFlow.js fallback). No .vsix is built
 * here (that takes minutes); test/e2e/run-e2e.sh packages and installs the linux-x64 one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = join(__dirname, '..', '..');
const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';

interface PackageScript {
  TARGETS: string[];
  onnxruntimeBinaries(target: string, root?: string): string[];
  ignoreFileFor(target: string, root?: string): string;
  vsixName(target: string, root?: string): string;
}
interface Vsce {
  listFiles(options: { cwd: string; ignoreFile: string }): Promise<string[]>;
}

/** What each target's onnxruntime folder must ship (the binding and the runtime it links). */
const EXPECTED: Record<string, string[]> = {
  'linux-x64': ['linux/x64/libonnxruntime.so.1', 'linux/x64/onnxruntime_binding.node'],
  'linux-arm64': ['linux/arm64/libonnxruntime.so.1', 'linux/arm64/onnxruntime_binding.node'],
  'win32-x64': ['win32/x64/onnxruntime.dll', 'win32/x64/onnxruntime_binding.node'],
  'win32-arm64': ['win32/arm64/onnxruntime.dll', 'win32/arm64/onnxruntime_binding.node'],
  'darwin-arm64': ['darwin/arm64/libonnxruntime.1.dylib', 'darwin/arm64/onnxruntime_binding.node'],
  'darwin-x64': [],
};
/** JavaScript every target ships (onnxruntime-node stays external to the esbuild bundles). */
const ORT_JS = [
  'node_modules/onnxruntime-node/package.json',
  'node_modules/onnxruntime-node/dist/index.js',
  'node_modules/onnxruntime-node/dist/binding.js',
  'node_modules/onnxruntime-node/dist/backend.js',
  'node_modules/onnxruntime-node/dist/version.js',
  'node_modules/onnxruntime-common/package.json',
  'node_modules/onnxruntime-common/dist/cjs/package.json',
  'node_modules/onnxruntime-common/dist/cjs/index.js',
  // Their npm packages carry no licence file: the notice ships beside ours.
  'THIRD_PARTY_NOTICES.md',
];

interface Minimatch {
  minimatch: (path: string, pattern: string, options?: { nocomment?: boolean }) => boolean;
  Minimatch: new (pattern: string, options?: object) => { match(path: string): boolean };
}

/**
 * vsce matches every file against every ignore pattern with minimatch(), which compiles the
 * pattern each time (about 12 s per listing here). The same patterns, compiled once: the same
 * answers, about ten times faster.
 */
function memoizeVsceMinimatch(): void {
  const mm = require(require.resolve('minimatch', { paths: [dirname(require.resolve('@vscode/vsce/out/package.js'))] })) as Minimatch;
  const compiled = new Map<string, { match(path: string): boolean }>();
  mm.minimatch = Object.assign((path: string, pattern: string, options: { nocomment?: boolean } = {}) => {
    if (!options.nocomment && pattern.startsWith('#')) return false;
    const key = `${pattern}\0${JSON.stringify(options)}`;
    let matcher = compiled.get(key);
    if (!matcher) compiled.set(key, (matcher = new mm.Minimatch(pattern, options)));
    return matcher.match(path);
  }, mm.minimatch);
}

let script: PackageScript;
let vsce: Vsce;
let stage: string;
const lists = new Map<string, string[]>();

before(async () => {
  // A computed path: the script is an ES module without type declarations.
  script = (await import(pathToFileURL(join(REPO, 'scripts', 'package.mjs')).href)) as PackageScript;
  memoizeVsceMinimatch();
  vsce = require('@vscode/vsce') as Vsce;
  // vsce lists a folder: here just the manifest, the README, the notices and the real node_modules (linked).
  stage = mkdtempSync(join(tmpdir(), 'repsim-package-'));
  for (const file of ['package.json', 'README.md', 'THIRD_PARTY_NOTICES.md']) copyFileSync(join(REPO, file), join(stage, file));
  symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir');
  for (const target of script.TARGETS) {
    const ignoreFile = join(stage, `.vscodeignore.${target}`);
    writeFileSync(ignoreFile, script.ignoreFileFor(target));
    lists.set(target, await vsce.listFiles({ cwd: stage, ignoreFile }));
  }
});

after(() => {
  if (stage) rmSync(stage, { recursive: true, force: true });
});

describe('per-platform packages', () => {
  test('one target per platform RepSim ships, named like vsce names them', () => {
    assert.deepEqual([...script.TARGETS].sort(), Object.keys(EXPECTED).sort());
    const { version } = require(join(REPO, 'package.json')) as { version: string };
    assert.equal(script.vsixName('linux-x64'), `repsim-linux-x64-${version}.vsix`);
    assert.throws(() => script.ignoreFileFor('linux-armhf'), /unknown target 'linux-armhf'/);
  });

  test('linux-x64 carries its onnxruntime binding and libonnxruntime.so.1, and no other platform\'s binary', () => {
    const files = lists.get('linux-x64')!;
    assert.ok(files.includes(`${ORT_BIN}/linux/x64/onnxruntime_binding.node`), 'no linux-x64 binding');
    assert.ok(files.includes(`${ORT_BIN}/linux/x64/libonnxruntime.so.1`), 'no libonnxruntime.so.1');
    const others = files.filter((f) => f.startsWith(`${ORT_BIN}/`) && !f.startsWith(`${ORT_BIN}/linux/x64/`));
    assert.deepEqual(others, []);
  });

  for (const [target, expected] of Object.entries(EXPECTED)) {
    test(`${target}: exactly its own onnxruntime binaries${expected.length ? '' : ' (none: TensorFlow.js fallback)'}, the JavaScript, no install-script dependencies`, () => {
      const files = lists.get(target)!;
      const binaries = files.filter((f) => f.startsWith(`${ORT_BIN}/`)).sort();
      assert.deepEqual(binaries, script.onnxruntimeBinaries(target));
      for (const file of expected) assert.ok(binaries.includes(`${ORT_BIN}/${file}`), `${target} lacks ${file}`);
      assert.ok(!binaries.some((f) => /libonnxruntime\.\d+\.\d+\.\d+\.dylib$|onnxruntime_providers_/.test(f)), `${target}: a duplicate dylib or a provider library: ${binaries.join(', ')}`);
      for (const file of ORT_JS) assert.ok(files.includes(file), `${target} lacks ${file}`);
      const unwanted = files.filter((f) => /^node_modules\/(onnxruntime-node\/(node_modules|lib|script)\/|onnxruntime-common\/(lib|dist\/esm)\/|adm-zip\/|global-agent\/)|\.(ts|map)$/.test(f));
      assert.deepEqual(unwanted, []);
    });
  }

  test('the shared allow-list alone (plain `vsce package`) carries no native onnxruntime binary', () => {
    const ignoreFile = join(stage, '.vscodeignore');
    copyFileSync(join(REPO, '.vscodeignore'), ignoreFile);
    return vsce.listFiles({ cwd: stage, ignoreFile }).then((files) => {
      assert.deepEqual(files.filter((f) => f.startsWith(`${ORT_BIN}/`)), []);
      assert.ok(files.includes('node_modules/onnxruntime-node/dist/index.js'));
    });
  });
});
