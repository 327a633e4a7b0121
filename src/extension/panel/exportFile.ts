/**
 * What the webview asks to export (a figure as a PNG data URL or SVG text, or CSV/JSON text) →
 * bytes and a safe file name for the save dialog. The message is untrusted input.
 */
import { basename, extname } from 'node:path';
import type { WebviewMessage } from '../../protocol/webview.js';

export type ExportRequest = Extract<WebviewMessage, { type: 'export' }>;

export interface ExportFile {
  readonly fileName: string;
  readonly bytes: Uint8Array;
  /** For the save dialog's `filters`. */
  readonly filters: Record<string, string[]>;
}

const FILTERS: Record<ExportRequest['format'], Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  svg: { 'SVG image': ['svg'] },
  csv: { 'CSV table': ['csv'] },
  json: { JSON: ['json'] },
};
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** An SVG document: an XML declaration (then comments or a doctype) or the root first, the root an `<svg>` in the SVG namespace, closed at the end. */
const SVG_DOCUMENT = /^(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg\b[^>]*\sxmlns\s*=\s*["']http:\/\/www\.w3\.org\/2000\/svg["'][^>]*>[\s\S]*<\/svg>\s*$/;
/** Larger exports are refused: a heatmap PNG or matrix is far smaller. */
export const MAX_EXPORT_BYTES = 64 * 1024 * 1024;

/** The last path component, without characters file systems refuse, with the format's extension. */
export function safeExportFileName(requested: string, format: ExportRequest['format'], fallbackStem: string): string {
  const base = basename(requested.replace(/\\/g, '/'))
    .replace(/[\u0000-\u001f<>:"/\\|?*]+/g, '_')
    .replace(/^\.+/, '')
    .trim();
  const stem = (extname(base).toLowerCase() === `.${format}` ? base.slice(0, -format.length - 1) : base) || fallbackStem.replace(/[^A-Za-z0-9._-]+/g, '_') || 'repsim-export';
  return `${stem.slice(0, 120)}.${format}`;
}

export function decodeExport(request: ExportRequest): ExportFile {
  const fileName = safeExportFileName(request.fileName, request.format, request.comparison);
  let bytes: Uint8Array;
  if (request.format === 'png') {
    const match = /^data:image\/png;base64,([A-Za-z0-9+/=\s]+)$/.exec(request.data);
    if (!match) throw new Error('the exported image is not a PNG data URL');
    bytes = Buffer.from(match[1], 'base64');
    if (!PNG_SIGNATURE.every((byte, i) => bytes[i] === byte)) throw new Error('the exported image is not a PNG');
  } else if (request.format === 'svg') {
    const text = request.data.replace(/^\uFEFF/, '');
    if (!(text.startsWith('<svg') || text.startsWith('<?xml')) || !SVG_DOCUMENT.test(text)) throw new Error('the exported image is not an SVG document');
    bytes = Buffer.from(request.data, 'utf8');
  } else {
    bytes = Buffer.from(request.data, 'utf8');
  }
  if (bytes.length > MAX_EXPORT_BYTES) throw new Error(`the export is too large (${bytes.length} bytes)`);
  return { fileName, bytes, filters: FILTERS[request.format] };
}
