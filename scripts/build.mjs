// Bundles every entry point with esbuild. TensorFlow.js stays external: its wasm backend
// finds its .wasm files next to its own module, and tfjs-node loads a native addon.
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.env.NODE_ENV === 'production';
const nodeExternal = ['vscode', '@tensorflow/*', 'onnxruntime-node'];
// Prefer packages' ESM builds in Node bundles too: jsonc-parser's UMD main loads its parts
// with a dynamic require that a bundle cannot follow.
const nodeMainFields = ['module', 'main'];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const builds = [
  { ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, mainFields: nodeMainFields },
  { ...common, entryPoints: { server: 'src/server/main.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, mainFields: nodeMainFields },
  { ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, mainFields: nodeMainFields, banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: { 'gram-worker': 'src/engine/similarity/parallel/gramWorker.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: nodeExternal, mainFields: nodeMainFields },
  { ...common, entryPoints: { webview: 'webview/main.ts' }, outdir: 'media', platform: 'browser', format: 'esm', target: 'es2022' },
];

// Webview assets: the codicon stylesheet and font, loaded by the panel and inlined into HTML reports.
function copyWebviewAssets() {
  mkdirSync('media', { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) copyFileSync(`node_modules/@vscode/codicons/dist/${file}`, `media/${file}`);
}
copyWebviewAssets();

// Figure assets: the font the PNG figures are drawn in (with its licence), and resvg's
// WebAssembly rasterizer, which the dist/ bundles load from beside themselves.
function copyFigureAssets() {
  mkdirSync('media/fonts', { recursive: true });
  copyFileSync('node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf', 'media/fonts/DejaVuSans.ttf');
  copyFileSync('node_modules/dejavu-fonts-ttf/LICENSE', 'media/fonts/DejaVuSans-LICENSE.txt');
  mkdirSync('dist', { recursive: true });
  copyFileSync('node_modules/@resvg/resvg-wasm/index_bg.wasm', 'dist/resvg.wasm');
}
copyFigureAssets();

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  chmodSync('dist/cli.js', 0o755);
}
