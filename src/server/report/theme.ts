/**
 * The report's stand-in for the theme VS Code would provide: the same CSS variables, with
 * VS Code's Light Modern and Dark Modern colours, chosen by the body class the app sets from
 * the system colour scheme.
 */
const LIGHT: Record<string, string> = {
  'editor-background': '#ffffff',
  foreground: '#3b3b3b',
  descriptionForeground: '#616161',
  errorForeground: '#e51400',
  'editorWarning-foreground': '#bf8803',
  focusBorder: '#005fb8',
  'panel-border': '#e5e5e5',
  'widget-border': '#e5e5e5',
  'charts-blue': '#1a85ff',
  'charts-orange': '#d18616',
  'charts-green': '#388a34',
  'charts-purple': '#652d90',
  'charts-red': '#e51400',
  'charts-yellow': '#bf8803',
  'button-background': '#005fb8',
  'button-foreground': '#ffffff',
  'button-hoverBackground': '#0258a8',
  'button-secondaryBackground': '#e5e5e5',
  'button-secondaryForeground': '#3b3b3b',
  'button-secondaryHoverBackground': '#cccccc',
  'settings-dropdownBackground': '#ffffff',
  'settings-dropdownForeground': '#3b3b3b',
  'settings-dropdownBorder': '#cecece',
  'settings-dropdownListBorder': '#c8c8c8',
  'list-focusOutline': '#005fb8',
  'widget-shadow': 'rgba(0, 0, 0, 0.16)',
  'list-activeSelectionBackground': '#e8e8e8',
  'list-activeSelectionForeground': '#000000',
  'list-hoverBackground': '#f2f2f2',
  'progressBar-background': '#005fb8',
  'icon-foreground': '#3b3b3b',
  'textLink-foreground': '#005fb8',
  'textBlockQuote-background': '#f8f8f8',
};

const DARK: Record<string, string> = {
  'editor-background': '#1f1f1f',
  foreground: '#cccccc',
  descriptionForeground: '#9d9d9d',
  errorForeground: '#f85149',
  'editorWarning-foreground': '#cca700',
  focusBorder: '#0078d4',
  'panel-border': '#2b2b2b',
  'widget-border': '#313131',
  'charts-blue': '#3794ff',
  'charts-orange': '#d18616',
  'charts-green': '#89d185',
  'charts-purple': '#b180d7',
  'charts-red': '#f14c4c',
  'charts-yellow': '#cca700',
  'button-background': '#0078d4',
  'button-foreground': '#ffffff',
  'button-hoverBackground': '#026ec1',
  'button-secondaryBackground': '#313131',
  'button-secondaryForeground': '#cccccc',
  'button-secondaryHoverBackground': '#3c3c3c',
  'settings-dropdownBackground': '#313131',
  'settings-dropdownForeground': '#cccccc',
  'settings-dropdownBorder': '#3c3c3c',
  'settings-dropdownListBorder': '#454545',
  'list-focusOutline': '#0078d4',
  'widget-shadow': 'rgba(0, 0, 0, 0.36)',
  'list-activeSelectionBackground': '#04395e',
  'list-activeSelectionForeground': '#ffffff',
  'list-hoverBackground': '#2a2d2e',
  'progressBar-background': '#0078d4',
  'icon-foreground': '#cccccc',
  'textLink-foreground': '#4daafc',
  'textBlockQuote-background': '#2b2b2b',
};

const declarations = (colors: Record<string, string>) =>
  Object.entries(colors)
    .map(([name, value]) => `  --vscode-${name}: ${value};`)
    .join('\n');

export const REPORT_THEME_CSS = `body {
  --vscode-font-family: system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif;
  --vscode-font-size: 13px;
  margin: 0;
  background: var(--vscode-editor-background);
  color: var(--vscode-foreground);
  font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size);
}
body.vscode-light {
${declarations(LIGHT)}
}
body.vscode-dark {
${declarations(DARK)}
}`;
