/**
 * The extension-host checks (index.ts) as mocha tests, for @vscode/test-cli's runner in desktop
 * VS Code (`npm run test:vscode`, .vscode-test.mjs bundles this file). Mocha's TDD interface
 * provides `suite` and `test` as globals; the checks run in order and share their state.
 */
import { extensionHostChecks } from './index.js';

declare const suite: (title: string, body: () => void) => void;
declare const test: (title: string, body: (this: { timeout(ms: number): void }) => Promise<void>) => void;

suite('RepSim in the extension host', () => {
  for (const { name, body, timeoutMs } of extensionHostChecks()) {
    test(name, async function () {
      this.timeout(timeoutMs);
      await body();
    });
  }
});
