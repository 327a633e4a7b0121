// `npm run test:vscode`: RepSim's extension-host checks (test/e2e/extension-host, the module the
// code-server end-to-end test runs too) in desktop VS Code, through @vscode/test-cli and
// @vscode/test-electron. The extension is loaded from this folder (dist/, built here first).
//
// Which VS Code: REPSIM_VSCODE_EXECUTABLE=/path/to/code (an installed desktop VS Code, passed
// as useInstallation.fromPath), else one test-electron downloads (stable) or downloaded before
// into .e2e/vscode-test. Where neither is possible (offline, no executable given) this stops at
// once with one line saying so. On Linux without a display, run it under `xvfb-run -a`.
// Everything it writes (downloads, profile, workspace, test bundle) goes under .e2e/vscode-test.
import { defineConfig } from '@vscode/test-cli';
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = dirname(fileURLToPath(import.meta.url));
const WORK = join(REPO, '.e2e', 'vscode-test');
const BUNDLE = join(WORK, 'tests', 'suite.js');
const WORKSPACE = join(WORK, 'ws');
const EXECUTABLE = process.env.REPSIM_VSCODE_EXECUTABLE || undefined;
const UPDATE_SERVER = 'https://update.code.visualstudio.com/api/releases/stable';
// `vscode-test --list-configuration` (the Extension Test Runner reads the config so) only lists.
const listing = process.argv.includes('--list-configuration');

function fail(message) {
  console.error(`test:vscode: ${message}`);
  process.exit(1);
}

/** Whether VS Code's update server answers within a few seconds (test-electron downloads from it). */
function updateServerReachable(timeoutMs = 5000) {
  return new Promise((resolve) => {
    const req = request(UPDATE_SERVER, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode < 500);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function run(what, command, args) {
  const result = spawnSync(command, args, { cwd: REPO, stdio: 'inherit' });
  if (result.status !== 0) fail(`${what} failed (exit ${result.status})`);
}

if (!listing) {
  // 1. A desktop VS Code, or a clear stop: nothing else is done before this.
  if (EXECUTABLE) {
    if (!existsSync(EXECUTABLE)) fail(`REPSIM_VSCODE_EXECUTABLE=${EXECUTABLE} does not exist; point it at a desktop VS Code executable (e.g. /usr/share/code/code, or .../Visual Studio Code.app/Contents/MacOS/Electron).`);
  } else {
    const downloaded = existsSync(WORK) && readdirSync(WORK).some((entry) => entry.startsWith('vscode-'));
    if (!downloaded && !(await updateServerReachable())) {
      fail(`no desktop VS Code is available: none was downloaded before and ${new URL(UPDATE_SERVER).host} cannot be reached to download one; set REPSIM_VSCODE_EXECUTABLE=/path/to/code to use an installed VS Code (the code-server end-to-end test, bash test/e2e/run-e2e.sh, works offline).`);
    }
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    console.warn('test:vscode: no DISPLAY: desktop VS Code needs one on Linux (run under `xvfb-run -a npm run test:vscode`).');
  }
  // 2. The extension (development build), the test module bundled for the extension host, a fresh workspace and profile.
  run('the build', process.execPath, [join(REPO, 'scripts', 'build.mjs')]);
  await esbuild.build({
    entryPoints: [join(REPO, 'test', 'e2e', 'extension-host', 'suite.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: BUNDLE, logLevel: 'warning',
  }).catch((error) => fail(`bundling the test module failed: ${error.message.split('\n')[0]}`));
  run('preparing the workspace', process.execPath, ['--import', 'tsx', join(REPO, 'test', 'e2e', 'makeWorkspace.ts'), WORKSPACE]);
  mkdirSync(join(WORK, 'user-data', 'User'), { recursive: true });
  writeFileSync(join(WORK, 'user-data', 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'security.workspace.trust.enabled': false,
  }, null, 2));
}

export default defineConfig({
  label: 'desktop',
  files: BUNDLE,
  extensionDevelopmentPath: REPO,
  workspaceFolder: WORKSPACE,
  version: 'stable',
  ...(EXECUTABLE ? { useInstallation: { fromPath: EXECUTABLE } } : {}),
  // Passed through to test-electron's runTests: where it keeps downloaded builds.
  cachePath: WORK,
  launchArgs: [`--user-data-dir=${join(WORK, 'user-data')}`, `--extensions-dir=${join(WORK, 'extensions')}`, '--disable-extensions'],
  env: { REPSIM_E2E_MARKER: join(WORK, 'results.json') },
  mocha: { ui: 'tdd', timeout: 180_000 },
});
