/**
 * RepSim's tests inside a real extension host. Two runners load this module:
 *  - code-server (test/e2e/run-e2e.sh, CI), through the workbench's extensionTestsPath: VS Code
 *    calls run(); a rejection fails the run. Each check's outcome also goes to a marker file
 *    (REPSIM_E2E_MARKER) that the driver prints, since this process's console is not the
 *    terminal's;
 *  - desktop VS Code through @vscode/test-electron (`npm run test:vscode`, .vscode-test.mjs),
 *    where suite.ts makes each check a mocha test.
 * Expects the workspace test/e2e/makeWorkspace.ts prepares; quickstart-e2e is run here unless
 * the UI test already ran it.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import * as vscode from 'vscode';
import type { RepSimApi } from '../../../src/extension/extension.js';
import { TINY_MODEL_INPUT, TINY_MODEL_OUTPUT, tinyOnnxModel } from '../tinyOnnxModel.js';

const EXTENSION_ID = 'repsim.repsim';
const COMMANDS = ['repsim.compareModels', 'repsim.runExperiment', 'repsim.cancelRun', 'repsim.openResults', 'repsim.newExperimentFile', 'repsim.showLog'];

export interface Check {
  readonly name: string;
  readonly body: () => Promise<void>;
  /** For runners with per-test time limits (mocha); the checks wait with their own limits too. */
  readonly timeoutMs: number;
}

interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly error?: string;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** The checks, in order (later ones use what earlier ones set up); run them one after another. */
export function extensionHostChecks(): Check[] {
  const checks: Check[] = [];
  const check = (name: string, body: () => Promise<void>, timeoutMs = 180_000) => void checks.push({ name, body, timeoutMs });

  let api: RepSimApi | undefined;
  check('extension activates and registers its commands', async () => {
    const extension = vscode.extensions.getExtension<RepSimApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    api = await extension.activate();
    const commands = await vscode.commands.getCommands(true);
    for (const id of COMMANDS) assert.ok(commands.includes(id), `${id} is not registered`);
    const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    for (const id of COMMANDS) assert.ok(contributed.includes(id), `${id} is not contributed`);
    assert.equal(vscode.workspace.getConfiguration('repsim').get('defaultBatchSize'), 256);
    assert.equal(vscode.workspace.getConfiguration('repsim').get('defaultPasses'), 1);
  });

  check('onnxruntime-node loads in the extension host from the extension\'s folder and runs a model', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    // Resolved as dist/extension.js and dist/server.js resolve it: from the extension's own node_modules.
    const load = createRequire(join(extension.extensionPath, 'dist', 'extension.js'));
    const supported = !(process.platform === 'darwin' && process.arch === 'x64'); // no onnxruntime-node binary there
    let ort: typeof Ort;
    try {
      ort = load('onnxruntime-node') as typeof Ort;
    } catch (error) {
      if (!supported) return; // RepSim falls back to TensorFlow.js
      throw error;
    }
    assert.ok(load.resolve('onnxruntime-node').startsWith(join(extension.extensionPath, 'node_modules') + sep), `onnxruntime-node resolved outside the extension: ${load.resolve('onnxruntime-node')}`);
    const session = await ort.InferenceSession.create(tinyOnnxModel());
    try {
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(TINY_MODEL_INPUT), [3]) });
      assert.deepEqual(Array.from(out.y.data as Float32Array), TINY_MODEL_OUTPUT);
    } finally {
      await session.release();
    }
  });

  const experimentFile = workspaceFile('quickstart-e2e.repsim.json');
  check('quickstart-e2e has results (run here unless the UI test ran it)', async () => {
    const results = workspaceFile('repsim-results/quickstart-e2e/results.json');
    if (existsSync(results.fsPath)) return;
    const started = await vscode.commands.executeCommand<{ runIds?: string[] }>('repsim.runExperiment', experimentFile, 'quickstart-e2e');
    assert.ok(started?.runIds?.length, `the run did not start: ${JSON.stringify(started)}`);
    await until('quickstart-e2e\'s results.json', 900_000, () => existsSync(results.fsPath));
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the run's last files (report.html) and its end
  }, 960_000);

  check('experiment files open as JSON with comments; CodeLens over each experiment', async () => {
    const document = await vscode.workspace.openTextDocument(experimentFile);
    await vscode.window.showTextDocument(document);
    assert.equal(document.languageId, 'jsonc');
    const lenses = await until('CodeLens', 20_000, async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', experimentFile, 10);
      return found.some((l) => l.command?.title === 'Open results') && found;
    });
    const text = document.getText();
    for (const name of ['quickstart-e2e', 'slow-e2e']) {
      const run = lenses.find((l) => l.command?.title === '▶ Run' && l.command.arguments?.[1] === name);
      assert.ok(run, `no ▶ Run lens for ${name}`);
      // On the line of the experiment object's opening brace.
      const nameOffset = text.indexOf(`"name": "${name}"`);
      const braceLine = document.positionAt(text.lastIndexOf('{', nameOffset)).line;
      assert.equal(run.range.start.line, braceLine, `${name}'s lens is on line ${run.range.start.line}, expected ${braceLine}`);
    }
    // The UI run finished quickstart-e2e: its results folder has a results.json.
    const open = lenses.find((l) => l.command?.title === 'Open results');
    assert.ok(open, 'no Open results lens');
    assert.match((open.command!.arguments![0] as vscode.Uri).fsPath, /repsim-results[\\/]quickstart-e2e[\\/]results\.json$/);
  });

  check('server checks of a broken experiment file become diagnostics on the offending text', async () => {
    const broken = workspaceFile('broken.repsim.json');
    const text = `// e2e: an unknown model id and a missing saved model
{
  "experiments": [
    {
      "name": "broken",
      "models": {
        "a": { "architecture": "resnet-8" },
        "saved": { "path": "./no/such/model.json" }
      },
      "comparisons": [{ "a": "a", "b": "nope" }]
    }
  ]
}
`;
    writeFileSync(broken.fsPath, text);
    const document = await vscode.workspace.openTextDocument(broken);
    await vscode.window.showTextDocument(document);
    const diagnostics = await until('repsim diagnostics', 90_000, () => {
      const found = vscode.languages.getDiagnostics(broken).filter((d) => d.source === 'repsim');
      return found.length >= 2 && found;
    });
    const unknown = diagnostics.find((d) => /unknown model 'nope'/.test(d.message));
    assert.ok(unknown, `no unknown-model diagnostic in ${JSON.stringify(diagnostics.map((d) => d.message))}`);
    assert.equal(document.getText(unknown.range), '"nope"');
    assert.equal(unknown.severity, vscode.DiagnosticSeverity.Error);
    const missing = diagnostics.find((d) => /no TensorFlow.js model/.test(d.message));
    assert.ok(missing, 'no missing-model diagnostic');
    assert.equal(document.getText(missing.range), '"./no/such/model.json"');
    // Running it anyway: a clear error message, no run, and the command resolves (nothing thrown at the host).
    const outcome = await vscode.commands.executeCommand('repsim.runExperiment', broken, 'broken');
    assert.equal(outcome, undefined);
    // Fixing the file clears them (change → debounced check).
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((edit) => edit.replace(unknown.range, '"a"'));
    await until('the unknown-model diagnostic to go', 30_000, () => !vscode.languages.getDiagnostics(broken).some((d) => d.source === 'repsim' && /unknown model/.test(d.message)));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  check('a crash of the compute server: it is restarted (with back-off) and works again', async () => {
    assert.ok(api, 'no extension API');
    const document = await vscode.workspace.openTextDocument(experimentFile);
    await api.testing.validateNow(document.uri);
    const pid = await until('a running compute server', 60_000, () => api!.testing.serverPid());
    process.kill(pid, 'SIGKILL');
    await until('the server to be restarted', 60_000, () => {
      const now = api!.testing.serverPid();
      return api!.testing.serverState() === 'running' && now !== undefined && now !== pid;
    });
    // And it answers: a check of the broken file still produces its diagnostics.
    const broken = workspaceFile('after-crash.repsim.json');
    writeFileSync(broken.fsPath, '{ "experiments": [ { "name": "x", "models": { "a": { "architecture": "resnet-8" } }, "comparisons": [ { "a": "a", "b": "zzz" } ] } ] }\n');
    await api.testing.validateNow(broken);
    await until('diagnostics from the new server', 30_000, () => vscode.languages.getDiagnostics(broken).some((d) => d.source === 'repsim' && /unknown model 'zzz'/.test(d.message)));
  });

  check('untrusted workspace: running and comparing are refused with a clear message', async () => {
    assert.ok(api, 'no extension API');
    api.testing.setTrustOverride(false);
    try {
      const refusedRun = await vscode.commands.executeCommand<{ refused?: string }>('repsim.runExperiment', experimentFile, 'quickstart-e2e');
      assert.match(refusedRun?.refused ?? '', /cannot run experiments in an untrusted workspace/);
      const refusedCompare = await vscode.commands.executeCommand<{ refused?: string }>('repsim.compareModels');
      assert.match(refusedCompare?.refused ?? '', /cannot compare models in an untrusted workspace/);
    } finally {
      api.testing.setTrustOverride(undefined);
    }
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(manifest.extensionKind, ['workspace']);
  });

  check('results panels: serializer registered; Open Results shows a results.json beside the editor', async () => {
    assert.ok(api, 'no extension API');
    assert.equal(api.testing.serializerRegistered, true);
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    assert.ok((manifest.activationEvents as string[]).includes('onWebviewPanel:repsim.results'));
    const results = workspaceFile('repsim-results/quickstart-e2e/results.json');
    assert.ok(existsSync(results.fsPath), `${results.fsPath} is missing`);
    const opened = await vscode.commands.executeCommand<{ runId?: string }>('repsim.openResults', results);
    assert.ok(opened?.runId, 'openResults returned no run');
    await until('a RepSim webview tab', 10_000, () =>
      vscode.window.tabGroups.all.some((group) => group.tabs.some((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('repsim.results'))),
    );
    assert.ok(api.testing.openPanels() >= 1);
  });

  check('New Experiment File writes a template that passes the schema and the server checks', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri>('repsim.newExperimentFile', 'e2e-template');
    assert.ok(uri, 'no file was created');
    assert.match(uri.fsPath, /e2e-template\.repsim\.json$/);
    const document = await vscode.workspace.openTextDocument(uri);
    assert.equal(document.languageId, 'jsonc');
    assert.match(document.getText(), /^\/\/ A RepSim experiment file/);
    await api!.testing.validateNow(uri);
    // Give the JSON language service (schema) a moment too; then nothing may be flagged.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const problems = vscode.languages.getDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.deepEqual(problems.map((d) => d.message), []);
  });

  return checks;
}

export async function run(): Promise<void> {
  const results: CheckResult[] = [];
  for (const { name, body } of extensionHostChecks()) {
    const t0 = Date.now();
    try {
      await body();
      results.push({ name, ok: true, seconds: (Date.now() - t0) / 1000 });
    } catch (error) {
      results.push({ name, ok: false, seconds: (Date.now() - t0) / 1000, error: String((error as Error)?.stack ?? error) });
    }
  }
  const marker = process.env.REPSIM_E2E_MARKER;
  if (marker) writeFileSync(marker, JSON.stringify({ results }, null, 2));
  const failed = results.filter((r) => !r.ok);
  if (failed.length) throw new Error(`${failed.length} extension-host check(s) failed: ${failed.map((f) => f.name).join('; ')}`);
}
