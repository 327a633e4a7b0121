/**
 * In the report (no VS Code around) the page follows the system colour scheme: the body gets
 * the class VS Code would set, so the same styles and theme observer apply.
 */
const THEME_CLASSES = ['vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light'];

export function followSystemColorScheme(): void {
  const body = document.body;
  if (THEME_CLASSES.some((c) => body.classList.contains(c))) return;
  const dark = globalThis.matchMedia?.('(prefers-color-scheme: dark)');
  const apply = () => {
    body.classList.toggle('vscode-dark', dark?.matches ?? false);
    body.classList.toggle('vscode-light', !(dark?.matches ?? false));
  };
  apply();
  dark?.addEventListener('change', apply);
}
