// Packages one .vsix per platform: `vsce package --target T` for each target, each with its own
// ignore file (.vscodeignore plus that platform's onnxruntime-node binaries), so that every
// .vsix carries only the native code its platform loads. darwin-x64 gets none (onnxruntime-node
// ships no macOS x64 binary): there the compute server falls back to TensorFlow.js.
//
//   node scripts/package.mjs [--target T ...] [--out-dir DIR] [--no-build]
//   npm run package                          every target → repsim-<target>-<version>.vsix
//   npm run package -- --target linux-x64    just one (--target may repeat, or T1,T2)
//
// Production build first (unless --no-build). vsce matches every file under its folder against
// every ignore pattern, so it packages a staging copy (.e2e/package-stage: what the allow-list
// can bring back, node_modules linked) instead of the repository with its tens of thousands of
// e2e files.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The platforms RepSim ships for (vsce's target names: `${process.platform}-${process.arch}`). */
export const TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64', 'win32-arm64', 'darwin-x64', 'darwin-arm64'];
/** onnxruntime-node's dist/binding.js loads `../bin/napi-v6/${platform}/${arch}/onnxruntime_binding.node`. */
export const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
/** What the staging copy holds (the repository-side half of .vscodeignore's allow-list). */
const STAGED = ['package.json', 'README.md', 'LICENSE', 'THIRD_PARTY_NOTICES.md', '.vscodeignore', 'dist', 'media', 'schemas', 'data/fashion-mnist-subset'];
const VSCE_FLAGS = ['--allow-missing-repository', '--no-rewrite-relative-links'];

/**
 * The onnxruntime-node files the target's extension loads, relative to the root; [] where the
 * package has no binary for it (darwin-x64). Everything in the platform's folder except:
 *  - libonnxruntime.<major>.<minor>.<patch>.dylib, an identical copy of libonnxruntime.<major>.dylib,
 *    which is the one the binding links (@rpath/libonnxruntime.1.dylib);
 *  - execution-provider libraries (libonnxruntime_providers_cuda.so, …_tensorrt, …_shared), which
 *    onnxruntime-node's CUDA install step downloads (hundreds of MB; they need CUDA anyway).
 */
export function onnxruntimeBinaries(target, root = REPO) {
  const [platform, arch] = target.split('-');
  const dir = `${ORT_BIN}/${platform}/${arch}`;
  if (!existsSync(join(root, dir))) return [];
  const files = readdirSync(join(root, dir)).filter((f) => statSync(join(root, dir, f)).isFile());
  const duplicate = (f) => {
    const m = /^(libonnxruntime\.\d+)\.\d+\.\d+\.dylib$/.exec(f);
    return m !== null && files.includes(`${m[1]}.dylib`);
  };
  return files
    .filter((f) => !duplicate(f) && !/onnxruntime_providers_/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}

/** The target's ignore file: .vscodeignore (the allow-list common to all) plus its onnxruntime binaries. */
export function ignoreFileFor(target, root = REPO) {
  if (!TARGETS.includes(target)) throw new Error(`unknown target '${target}' (known: ${TARGETS.join(', ')})`);
  const base = readFileSync(join(root, '.vscodeignore'), 'utf8').trimEnd();
  const binaries = onnxruntimeBinaries(target, root);
  const note = binaries.length ? `# ${target}: onnxruntime-node's native binaries (added by scripts/package.mjs)` : `# ${target}: onnxruntime-node has no binary for this platform (TensorFlow.js fallback)`;
  return `${base}\n${note}\n${binaries.map((f) => `!${f}`).join('\n')}\n`;
}

export function vsixName(target, root = REPO) {
  const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return `${name}-${target}-${version}.vsix`;
}

/** A copy of what the package may hold, node_modules linked; returns its folder. */
export function stage(folder, root = REPO) {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const entry of STAGED) {
    const from = join(root, entry);
    if (!existsSync(from)) {
      if (entry === 'LICENSE') continue;
      throw new Error(`${entry} is missing: build first (node scripts/build.mjs)`);
    }
    mkdirSync(dirname(join(folder, entry)), { recursive: true });
    cpSync(from, join(folder, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(folder, 'node_modules'), 'dir');
  return folder;
}

function vsceBin(root) {
  const bin = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (!existsSync(bin)) throw new Error('@vscode/vsce is not installed (npm install)');
  return bin;
}

/** Packages each target from a fresh staging copy; returns the .vsix paths. */
export function packageTargets(targets, { outDir = REPO, root = REPO, build = true, log = console.log } = {}) {
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target '${t}' (known: ${TARGETS.join(', ')})`);
  if (build) {
    const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
    if (built.status !== 0) throw new Error('the production build failed');
  }
  const work = join(root, '.e2e', 'package-stage');
  const folder = stage(join(work, 'stage'), root);
  mkdirSync(outDir, { recursive: true });
  const made = [];
  try {
    for (const target of targets) {
      const ignoreFile = join(work, `vscodeignore.${target}`);
      writeFileSync(ignoreFile, ignoreFileFor(target, root));
      const out = resolve(outDir, vsixName(target, root));
      log(`package ${target}: ${onnxruntimeBinaries(target, root).length} onnxruntime binaries → ${out}`);
      const run = spawnSync(process.execPath, [vsceBin(root), 'package', '--target', target, '--ignoreFile', ignoreFile, ...VSCE_FLAGS, '--out', out], { cwd: folder, stdio: 'inherit' });
      if (run.status !== 0) throw new Error(`vsce package --target ${target} failed (exit ${run.status})`);
      made.push(out);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return made;
}

function parseArgs(argv) {
  const targets = [];
  let outDir = REPO;
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!v) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--target' || arg === '-t' || arg.startsWith('--target=')) targets.push(...value().split(',').filter(Boolean));
    else if (arg === '--out-dir' || arg.startsWith('--out-dir=')) outDir = resolve(value());
    else if (arg === '--no-build') build = false;
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: node scripts/package.mjs [--target T ...] [--out-dir DIR] [--no-build]\ntargets: ${TARGETS.join(', ')} (default: all)`);
      process.exit(0);
    } else throw new Error(`unknown argument '${arg}'`);
  }
  return { targets: targets.length ? [...new Set(targets)] : TARGETS, outDir, build };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { targets, outDir, build } = parseArgs(process.argv.slice(2));
    const made = packageTargets(targets, { outDir, build });
    for (const file of made) console.log(`${file}: ${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`);
  } catch (error) {
    console.error(`package: ${error.message}`);
    process.exit(1);
  }
}
