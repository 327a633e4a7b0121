// Placeholder entry so the webview bundle exists; the Lit app arrives with the panel (issue 5).
export {};
