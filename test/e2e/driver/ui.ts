/**
 * The user's path through a real VS Code (code-server in Chromium): open the experiment file,
 * "RepSim: Compare Models" from the palette, pick the experiment, watch the panel open beside
 * the editor and its heatmap fill in until the run is done (screenshot), then start a second
 * run and cancel it from its panel; reload the window (panels restored); compare two activation
 * files picked by hand, and two .onnx models (PyTorch exports) picked by hand.
 * usage: node --import tsx test/e2e/driver/ui.ts <code-server url> <workspace> <screenshot.png>
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { Results, say, screenshot, until, withBrowser, EXTENSION_ID } from './common.js';

const [baseUrl, workspace, shot] = process.argv.slice(2);
const RUN_TIMEOUT_MS = Number(process.env.E2E_RUN_TIMEOUT_S ?? 420) * 1000;

/** Runs a command from the palette (F1). The palette lists an extension's commands only once its host is up: reopen until listed. */
async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 3000 });
      break;
    } catch {
      if (attempt >= 20) throw new Error(`command '${title}' never appeared in the palette`);
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

/** Picks the quick pick row holding `text` (typing it to filter first). */
async function pickItem(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 30_000 });
  await input.fill(text);
  await row.waitFor({ timeout: 5000 });
  await row.click();
}

/** The webview (of this extension) whose run header names `experiment`. */
async function findPanel(page: Page, experiment: string, timeoutMs = 60_000): Promise<FrameLocator> {
  const iframes = page.locator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"]`);
  return until(`the results panel of ${experiment}`, timeoutMs, async () => {
    const count = await iframes.count();
    for (let i = 0; i < count; i++) {
      const frame = page.frameLocator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"] >> nth=${i}`).frameLocator('iframe#active-frame');
      const title = frame.locator('repsim-run-header h1');
      if ((await title.count()) > 0 && (await title.first().textContent({ timeout: 1000 }))?.trim() === experiment) return frame;
    }
    return undefined;
  });
}

async function runStatus(panel: FrameLocator): Promise<string> {
  return ((await panel.locator('repsim-run-header [role=status]').first().textContent({ timeout: 2000 })) ?? '').trim();
}

/** Distinct colours in the heatmap's canvas (cells drawn = many; empty = only the background). */
async function heatmapColours(panel: FrameLocator): Promise<number> {
  return panel
    .locator('repsim-heatmap canvas')
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const context = canvas.getContext('2d');
      if (!context || canvas.width === 0 || canvas.height === 0) return 0;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 7) if (data[i + 3] > 0) colours.add((data[i] >> 3) * 1024 + (data[i + 1] >> 3) * 32 + (data[i + 2] >> 3));
      return colours.size;
    });
}

async function main(): Promise<number> {
  let current: Page | undefined;
  const results = new Results(() => current);
  await withBrowser(async (_context, page) => {
    current = page;
    await page.goto(`${baseUrl}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await page.locator('.statusbar').waitFor({ timeout: 30_000 });
    say('workbench visible');

    await results.check('experiment file opens as JSON with comments, with ▶ Run lenses', async () => {
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').fill('quickstart-e2e.repsim.json');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'quickstart-e2e.repsim.json' }).first().waitFor({ timeout: 20_000 });
      await page.keyboard.press('Enter');
      await page.locator('.tab.active', { hasText: 'quickstart-e2e.repsim.json' }).waitFor({ timeout: 20_000 });
      await page.locator('.statusbar-item', { hasText: 'JSON with Comments' }).first().waitFor({ timeout: 30_000 });
      // CodeLens appear once the extension has activated (workspaceContains:**/*.repsim.json).
      await page.locator('.contentWidgets .codelens-decoration, .codelens-decoration', { hasText: 'Run' }).first().waitFor({ timeout: 60_000 });
    });

    let panel: FrameLocator | undefined;
    await results.check('"RepSim: Compare Models" → experiment → panel opens beside the editor', async () => {
      await runCommand(page, 'RepSim: Compare Models');
      await pickItem(page, 'quickstart-e2e');
      panel = await findPanel(page, 'quickstart-e2e');
      // Two editor groups: the experiment file, and the panel beside it.
      await until('two editor groups', 15_000, async () => (await page.locator('.editor-group-container').count()) >= 2);
      const groups = page.locator('.editor-group-container');
      assert(await groups.nth(0).locator('.tab', { hasText: 'quickstart-e2e.repsim.json' }).count(), 'the experiment file is not in the first group');
      assert(await groups.nth(1).locator('.tab', { hasText: 'RepSim: quickstart-e2e' }).count(), 'the panel is not in the second group');
    });

    await results.check('the heatmap fills in and the run finishes (Done)', async () => {
      if (!panel) throw new Error('no panel');
      let sawRunning = false;
      let sawPartial = false;
      let lastStatus = '';
      const status = await until('the run to finish', RUN_TIMEOUT_MS, async () => {
        const now = await runStatus(panel!).catch(() => '');
        if (now !== lastStatus) say(`quickstart-e2e: ${now}`);
        lastStatus = now;
        if (now === 'Running') {
          sawRunning = true;
          // The heatmap fills in batch by batch while the comparison runs.
          if (!sawPartial && (await panel!.locator('repsim-heatmap canvas').count()) > 0 && (await heatmapColours(panel!).catch(() => 0)) > 8) {
            sawPartial = true;
            say('heatmap filling in while the run goes');
          }
        }
        return ['Done', 'Failed', 'Cancelled'].includes(now) && now;
      }, 1000);
      const error = await panel.locator('repsim-run-header .error').first().textContent({ timeout: 1000 }).catch(() => null);
      assert(status === 'Done', `the run ended ${status}${error ? `: ${error}` : ''}`);
      assert(sawRunning, 'never saw the run going');
      await panel.locator('repsim-heatmap canvas').first().waitFor({ state: 'visible', timeout: 20_000 });
      const colours = await until('heatmap cells', 20_000, async () => {
        const n = await heatmapColours(panel!);
        return n > 8 && n;
      });
      say(`heatmap: ${colours} distinct colours`);
      await page.waitForTimeout(500);
      await screenshot(page, shot);
    });

    await results.check('the panel states the run\'s finding in one line, as results.json and the CLI do', async () => {
      if (!panel) throw new Error('no panel');
      // Kornblith et al.'s check, computed: seed 0 vs seed 1, then trained vs untrained.
      const shown = ((await panel.locator('repsim-app .finding').first().textContent({ timeout: 10_000 })) ?? '').replace(/\s+/g, ' ').trim();
      say(`panel: ${shown}`);
      const pattern = /^Finding ?(resnet8-seed0 vs resnet8-seed1: [0-4] of 4 layers most similar to their counterpart \(mean CKA -?[01]\.\d\d\); resnet8-seed0 vs resnet8-untrained: [0-4] of 4 \(mean CKA -?[01]\.\d\d\))$/;
      const finding = pattern.exec(shown)?.[1];
      assert(finding, `the panel's finding is not the expected line: '${shown}'`);
      const saved = JSON.parse(readFileSync(join(workspace, 'repsim-results', 'quickstart-e2e', 'results.json'), 'utf8')) as { finding?: string };
      assert(saved.finding === finding, `results.json says '${saved.finding}'`);
      // The CLI over the same file reuses the trained models and finished comparisons from the
      // workspace cache, and ends with the same line.
      const cli = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'dist', 'cli.js'), 'run', 'quickstart-e2e.repsim.json', '--experiment', 'quickstart-e2e'], {
        cwd: workspace,
        encoding: 'utf8',
        timeout: 300_000,
      });
      assert(cli.status === 0, `repsim run exited ${cli.status}: ${cli.stderr.slice(-600)}`);
      const lines = cli.stdout.trim().split('\n');
      say(`cli: ${lines.join(' | ')}`);
      assert(lines[0] === `quickstart-e2e: done (2 comparisons); results in ${join('repsim-results', 'quickstart-e2e')}`, `the CLI's first line: '${lines[0]}'`);
      assert(lines[1] === `finding: ${finding}`, `the CLI's last line: '${lines[1]}'`);
    });

    await results.check("a cell's drill-down: its p-value, the top examples as thumbnails from the server, and the cell recomputed without the top 5", async () => {
      if (!panel) throw new Error('no panel');
      const canvas = panel.locator('repsim-heatmap canvas').first();
      const box = await canvas.boundingBox();
      if (!box) throw new Error('the heatmap has no box');
      // Inside the chart area (the axes take the left and bottom edges).
      await canvas.click({ position: { x: box.width * 0.6, y: box.height * 0.4 } });
      const detail = panel.locator('repsim-cell-detail').first();
      await detail.waitFor({ timeout: 15_000 });
      const p = ((await detail.locator('.p-value').first().textContent({ timeout: 10_000 })) ?? '').trim();
      say(`cell detail: ${p}`);
      assert(/^p = /.test(p), `the cell's p-value: '${p}'`);
      await until('thumbnails from the server', 60_000, async () => (await detail.locator('repsim-example-list img').count()) > 0);
      const src = (await detail.locator('repsim-example-list img').first().getAttribute('src')) ?? '';
      assert(src.startsWith('data:image/png;base64,'), `a thumbnail is not a PNG data URL: ${src.slice(0, 40)}`);
      await detail.locator('vscode-button.recompute-button').first().click();
      const recomputed = await until('the recomputed cell', 180_000, async () => {
        const text = ((await detail.locator('.recomputed').first().textContent({ timeout: 1000 }).catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
        return text && !text.startsWith('Recomputing') && text;
      }, 1000);
      say(`recomputed: ${recomputed}`);
      assert(/^Without the top 5: .+ over [\d,]+ examples$/.test(recomputed), `the recomputed cell: '${recomputed}'`);
      await screenshot(page, shot.replace(/\.png$/, '-drilldown.png'));
      await detail.locator('vscode-button.close').first().click();
    });

    await results.check('a second run shows progress, and is cancelled from its panel', async () => {
      await runCommand(page, 'RepSim: Run Experiment');
      await pickItem(page, 'slow-e2e');
      const slow = await findPanel(page, 'slow-e2e');
      // It joins the first panel's group rather than opening a third column.
      assert((await page.locator('.editor-group-container').count()) === 2, 'the second panel opened a new editor group');
      assert(await page.locator('.editor-group-container').nth(1).locator('.tab', { hasText: 'RepSim: slow-e2e' }).count(), 'the second panel is not beside the editor');
      await until('slow-e2e running', 120_000, async () => (await runStatus(slow)) === 'Running');
      // The status bar shows the run's progress; a progress notification names it.
      await page.locator('.statusbar-item', { hasText: /RepSim (\d+%|data|training|starting)/ }).first().waitFor({ timeout: 60_000 });
      await page.locator('.notifications-toasts .notification-toast', { hasText: 'RepSim: slow-e2e' }).first().waitFor({ timeout: 30_000 });
      const cancel = slow.locator('repsim-progress vscode-button.cancel').first();
      await cancel.waitFor({ state: 'visible', timeout: 30_000 });
      await page.waitForTimeout(1500);
      await cancel.click();
      say('cancel clicked');
      await until('slow-e2e cancelled', 120_000, async () => (await runStatus(slow)) === 'Cancelled');
      await screenshot(page, shot.replace(/\.png$/, '-cancelled.png'));
    });

    await results.check('after a window reload the panels come back (serializer) with their runs', async () => {
      // VS Code hands the webview's saved state and the extension's workspace state to disk
      // asynchronously: a reload within a moment of the cancellation can restore the state from
      // before it (the panel then says the run was interrupted). A user's reload comes later.
      await page.waitForTimeout(2000);
      await page.reload();
      await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
      const restored = await findPanel(page, 'slow-e2e', 90_000);
      await until('the restored run status', 30_000, async () => (await runStatus(restored)) === 'Cancelled');
      assert((await page.locator('.tab', { hasText: /^RepSim: / }).count()) === 2, 'both results panels should be restored');
      await page.locator('.tab', { hasText: 'RepSim: quickstart-e2e' }).first().click();
      const quickstart = await findPanel(page, 'quickstart-e2e', 60_000);
      await until('the restored quickstart run', 30_000, async () => (await runStatus(quickstart)) === 'Done');
      await quickstart.locator('repsim-heatmap canvas').first().waitFor({ state: 'visible', timeout: 20_000 });
    });

    await results.check('"Compare two models…": two activation files → an ad-hoc experiment in .repsim/adhoc/, run to Done', async () => {
      // From the editor, as a user would (a webview holding the focus can close a quick pick as it opens).
      await page.locator('.tab', { hasText: 'quickstart-e2e.repsim.json' }).first().click();
      await runCommand(page, 'RepSim: Compare Models');
      await pickItem(page, 'Compare two models');
      await pickItem(page, 'relu_net_seed0.npz');
      await pickItem(page, 'relu_net_seed1.npz');
      await pickItem(page, 'Linear CKA');
      await pickItem(page, 'Debiased');
      const adhoc = await findPanel(page, 'relu_net_seed0-vs-relu_net_seed1');
      await until('the ad-hoc run to finish', 120_000, async () => ['Done', 'Failed'].includes(await runStatus(adhoc)));
      assert((await runStatus(adhoc)) === 'Done', 'the ad-hoc run failed');
      const file = join(workspace, '.repsim', 'adhoc', 'relu_net_seed0-vs-relu_net_seed1.repsim.json');
      assert(existsSync(file), `${file} was not written`);
      assert(/"estimator": "debiased"/.test(readFileSync(file, 'utf8')), 'the picked estimator is not in the ad-hoc file');
    });


    await results.check('"Compare two models…": two .onnx files (PyTorch exports) → Fashion-MNIST subset → the heatmap, run to Done', async () => {
      await page.locator('.tab', { hasText: 'quickstart-e2e.repsim.json' }).first().click();
      await runCommand(page, 'RepSim: Compare Models');
      await pickItem(page, 'Compare two models');
      await pickItem(page, 'torch_seed4.onnx');
      await pickItem(page, 'torch_seed5.onnx');
      await pickItem(page, 'Linear CKA');
      await pickItem(page, 'Fashion-MNIST subset');
      const onnx = await findPanel(page, 'torch_seed4-vs-torch_seed5');
      await until('the ONNX run to finish', 180_000, async () => ['Done', 'Failed'].includes(await runStatus(onnx)));
      const error = await onnx.locator('repsim-run-header .error').first().textContent({ timeout: 1000 }).catch(() => null);
      assert((await runStatus(onnx)) === 'Done', `the ONNX run failed${error ? `: ${error}` : ''}`);
      await onnx.locator('repsim-heatmap canvas').first().waitFor({ state: 'visible', timeout: 20_000 });
      const colours = await until('ONNX heatmap cells', 20_000, async () => {
        const n = await heatmapColours(onnx);
        return n > 4 && n;
      });
      say(`ONNX heatmap: ${colours} distinct colours`);
      await screenshot(page, shot.replace(/\.png$/, '-onnx.png'));
      const file = join(workspace, '.repsim', 'adhoc', 'torch_seed4-vs-torch_seed5.repsim.json');
      assert(/"onnx": "\.\.\/\.\.\/pytorch\/torch_seed4\.onnx"/.test(readFileSync(file, 'utf8')), 'the ad-hoc file does not name the .onnx model');
    });
  });
  console.log(`ui: ${results.passed} passed, ${results.failed} failed`);
  return results.failed ? 1 : 0;
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.log(`e2e-check FAIL ui driver: ${(error as Error)?.stack ?? error}`);
    process.exit(1);
  },
);
