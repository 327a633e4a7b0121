/**
 * Tells components when the theme changes. VS Code switches the body class
 * (vscode-light / vscode-dark / vscode-high-contrast) and rewrites the CSS variables on <html>;
 * the report follows the system colour scheme. One observer serves every component.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { readThemeColors, type ThemeColors } from './colors.js';

type Listener = (colors: ThemeColors) => void;

const listeners = new Set<Listener>();
let current: ThemeColors | undefined;
let observing = false;
let queued = false;

function notify(): void {
  queued = false;
  current = readThemeColors();
  for (const listener of listeners) listener(current);
}

/** Coalesces the class and style mutations of one theme switch into one re-read. */
function queueNotify(): void {
  if (queued) return;
  queued = true;
  queueMicrotask(notify);
}

function startObserving(): void {
  if (observing) return;
  observing = true;
  const observer = new MutationObserver(queueNotify);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  globalThis.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', queueNotify);
}

export function currentTheme(): ThemeColors {
  return (current ??= readThemeColors());
}

/** A Lit controller: `theme` is always current, and the host re-renders (and `onChange` runs) on a switch. */
export class ThemeController implements ReactiveController {
  theme: ThemeColors = currentTheme();
  private readonly listener: Listener = (colors) => {
    this.theme = colors;
    this.onChange?.(colors);
    this.host.requestUpdate();
  };

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onChange?: (colors: ThemeColors) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    startObserving();
    listeners.add(this.listener);
    const latest = currentTheme();
    if (latest !== this.theme) this.listener(latest);
  }

  hostDisconnected(): void {
    listeners.delete(this.listener);
  }
}
