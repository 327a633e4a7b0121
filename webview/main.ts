/**
 * Webview entry: defines the custom elements and mounts `<repsim-app>` into the page unless it
 * is there already (the panel's page has an empty body; the HTML report carries the element).
 */
import './components/repsim-app.js';

if (document.querySelector('repsim-app') === null) document.body.append(document.createElement('repsim-app'));
