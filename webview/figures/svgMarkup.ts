/**
 * The building blocks of RepSim's publication figures as SVG text: the font (DejaVu Sans,
 * shipped in media/fonts/ for the PNG rasterizer), escaping of user text (layer names, model
 * ids), text width estimates from the font's own advance widths (for margins and tick
 * thinning, with no DOM), and the document wrapper (white background, print colours).
 * Pure string building: runs in Node and in the webview alike.
 */

/** The figures' font: the family the rasterizer loads from media/fonts/DejaVuSans.ttf. */
export const FIGURE_FONT = 'DejaVu Sans';
/** What browsers use when DejaVu Sans is not installed (the layout's widths are DejaVu's, the widest of these). */
export const FIGURE_FONT_STACK = `'${FIGURE_FONT}', Verdana, Arial, sans-serif`;

/** Fixed, theme-independent colours for print. */
/** The figures' shared type sizes and spacing (px). */
export const TITLE_FONT = 13;
export const AXIS_FONT = 12;
export const TICK_FONT = 10;
export const NOTE_FONT = 10;
/** Tick labels closer than this (centre to centre) would touch. */
export const LABEL_SPACING = TICK_FONT * 1.3;
export const PAD = 12;
export const TICK = 4;
export const LABEL_GAP = 3;

export const INK = '#000000';
export const MUTED_INK = '#444444';
export const GRID = '#e3e3e3';
export const PAPER = '#ffffff';

/** DejaVu Sans advance widths of ASCII 32–126, in thousandths of an em. */
const ASCII_ADVANCE = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
  770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634,
  278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/** The width of a line of text at a font size, from DejaVu Sans' advance widths (wide scripts as a full em). */
export function textWidth(text: string, fontSize: number): number {
  let thousandths = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    thousandths += code >= 32 && code < 127 ? ASCII_ADVANCE[code - 32] : code >= 0x2e80 ? 1000 : 700;
  }
  return (thousandths / 1000) * fontSize;
}

/**
 * Text as XML character data or an attribute value: markup characters escaped, and characters
 * XML 1.0 does not allow (controls, lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate in SVG text: at most two decimals, no trailing zeros. */
export function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Keeps the start and the end of a long layer name (where its block and its op usually are). */
export function shortenLabel(name: string, maxChars = 26): string {
  const chars = [...name];
  if (chars.length <= maxChars) return name;
  const head = Math.ceil((maxChars - 1) / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (maxChars - 1 - head)).join('')}`;
}

/** The text, shortened in the middle (shortenLabel) until it is at most maxWidth wide at this size. */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  let fitted = text;
  for (let chars = [...text].length - 1; chars >= 4 && textWidth(fitted, fontSize) > maxWidth; chars--) fitted = shortenLabel(text, chars);
  return fitted;
}

export interface TextOptions {
  readonly size: number;
  readonly anchor?: 'start' | 'middle' | 'end';
  /** Degrees, about (x, y). */
  readonly rotate?: number;
  readonly fill?: string;
  /** Centre the text vertically on y instead of sitting on it. */
  readonly middle?: boolean;
  /** A class, and a layer index as data-index, for finding the text again (tests, styling). */
  readonly className?: string;
  readonly index?: number;
}

/** One line of escaped text; `dy` centres it without dominant-baseline (which rasterizers treat differently). */
export function svgText(x: number, y: number, text: string, options: TextOptions): string {
  const attributes = [
    options.className ? `class="${escapeXml(options.className)}"` : '',
    options.index === undefined ? '' : `data-index="${options.index}"`,
    options.rotate ? `transform="translate(${num(x)} ${num(y)}) rotate(${num(options.rotate)})"` : `x="${num(x)}" y="${num(y)}"`,
    options.middle ? `dy="${num(options.size * 0.35)}"` : '',
    `font-size="${num(options.size)}"`,
    options.anchor && options.anchor !== 'start' ? `text-anchor="${options.anchor}"` : '',
    `fill="${options.fill ?? INK}"`,
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${escapeXml(text)}</text>`;
}

/** A standalone SVG document on white paper; `title` is its accessible name. */
export function svgDocument(width: number, height: number, title: string, body: readonly string[], defs: readonly string[] = []): string {
  const w = num(Math.ceil(width));
  const h = num(Math.ceil(height));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeXml(title)}" font-family="${escapeXml(FIGURE_FONT_STACK)}">`,
    `<title>${escapeXml(title)}</title>`,
    defs.length ? `<defs>${defs.join('')}</defs>` : '',
    `<rect width="${w}" height="${h}" fill="${PAPER}"/>`,
    ...body,
    '</svg>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}
