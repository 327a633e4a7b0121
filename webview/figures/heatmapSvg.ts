/**
 * A comparison's CKA heatmap as a standalone SVG fit for a paper: square cells in the viridis
 * scale (the panel's colours and domain), model B's layers along x and model A's along y with
 * the model ids as axis titles, tick labels thinned so they never overlap (the first and last
 * always kept), a colour bar with ticks, a title with the measure and its settings, undefined
 * cells hatched grey, and optionally the cells a permutation test does not call significant
 * (p > alpha) hatched, with a note below. Layer 1 sits at the bottom left by default, as in
 * Nguyen et al.'s figures, or at the top left (matrix order).
 */
import { ckaDomain, rgbHex, scaleRgb, SCALE_STEPS, VIRIDIS_LUT, type ScaleDomain } from '../charts/colorScale.js';
import { formatTicks, niceTicks, thinnedIndices } from './axisTicks.js';
import { DEFAULT_ORIGIN, type FigureComparison, type FigureOrigin } from './figureInput.js';
import { measureTitle } from './figureTitle.js';
import { fitText, INK, MUTED_INK, num, shortenLabel, svgDocument, svgText, textWidth, AXIS_FONT, LABEL_GAP, LABEL_SPACING, NOTE_FONT, PAD, TICK, TICK_FONT, TITLE_FONT } from './svgMarkup.js';

export interface HeatmapFigureOptions {
  /** Where layer 1 of both models sits (default bottom-left). */
  readonly origin?: FigureOrigin;
  /** With the comparison's permutation test: hatch the cells whose p-value exceeds alpha. */
  readonly alpha?: number;
  /** Replaces the measure line as the title. */
  readonly title?: string;
}

const MAX_PLOT_SIDE = 480;
const MAX_CELL = 60;
const BAR_GAP = 18;
const BAR_WIDTH = 14;
const MIN_BAR_HEIGHT = 100;
/** Hatch stripes repeat every this many pixels. */
const HATCH_PERIOD = 6;

/** Where everything goes, in SVG pixels; cell (i, j) of the matrix is at cellOrigin(i, j). */
export interface HeatmapLayout {
  readonly width: number;
  readonly height: number;
  readonly cell: number;
  readonly plotLeft: number;
  readonly plotTop: number;
  readonly rows: number;
  readonly cols: number;
  readonly origin: FigureOrigin;
  /** The top-left corner of cell (i, j): row i = layer i of A, column j = layer j of B. */
  cellOrigin(i: number, j: number): { x: number; y: number };
}

interface Prepared {
  readonly layout: HeatmapLayout;
  readonly title: string;
  readonly domain: ScaleDomain;
  readonly xTicks: readonly number[];
  readonly yTicks: readonly number[];
  readonly xLabels: readonly string[];
  readonly yLabels: readonly string[];
  readonly xLabelExtent: number;
  readonly barTicks: readonly number[];
  readonly barLabels: readonly string[];
  readonly barHeight: number;
  readonly hatchedCells: boolean[][] | undefined;
  readonly notes: readonly { readonly swatch: 'undefined' | 'hatch'; readonly text: string }[];
}

function prepare(input: FigureComparison, options: HeatmapFigureOptions): Prepared {
  const rows = input.layersA.length;
  const cols = input.layersB.length;
  const origin = options.origin ?? DEFAULT_ORIGIN;
  const cell = Math.min(MAX_CELL, MAX_PLOT_SIDE / Math.max(rows, cols, 1));
  const xTicks = thinnedIndices(cols, cell, LABEL_SPACING);
  const yTicks = thinnedIndices(rows, cell, LABEL_SPACING);
  const xLabels = input.layersB.map((name) => shortenLabel(name));
  const yLabels = input.layersA.map((name) => shortenLabel(name));
  const extent = (labels: readonly string[], ticks: readonly number[]) => Math.max(0, ...ticks.map((k) => textWidth(labels[k], TICK_FONT)));
  const xLabelExtent = extent(xLabels, xTicks);
  const yLabelExtent = extent(yLabels, yTicks);
  const domain = ckaDomain(input.matrix);
  const barTicks = niceTicks(domain.min, domain.max, rows * cell < 150 ? 3 : 5);
  const barLabels = formatTicks(barTicks);
  const title = options.title ?? measureTitle(input);

  const pValue = input.significance?.pValue;
  const alpha = options.alpha;
  const hatchedCells = pValue && alpha !== undefined ? input.matrix.map((row, i) => row.map((v, j) => v !== null && (pValue[i]?.[j] ?? null) !== null && (pValue[i][j] as number) > alpha)) : undefined;
  const hasUndefined = input.matrix.some((row) => row.some((v) => v === null));
  const notes: Prepared['notes'][number][] = [];
  if (hasUndefined) notes.push({ swatch: 'undefined', text: 'CKA undefined (a layer without variance)' });
  if (hatchedCells) {
    const permutations = input.significance?.permutations;
    notes.push({ swatch: 'hatch', text: `p > ${alpha} (permutation test${permutations ? `, ${permutations.toLocaleString('en-US')} permutations` : ''})` });
  }

  const plotWidth = cols * cell;
  const plotHeight = rows * cell;
  const plotTop = PAD + TITLE_FONT * 1.3 + 18;
  const plotLeft = PAD + AXIS_FONT * 1.2 + 8 + yLabelExtent + LABEL_GAP + TICK;
  const barHeight = Math.max(plotHeight, MIN_BAR_HEIGHT);
  const barLabelWidth = Math.max(textWidth('CKA', TICK_FONT) / 2, ...barLabels.map((l) => textWidth(l, TICK_FONT)));
  const right = plotLeft + plotWidth + BAR_GAP + BAR_WIDTH + TICK + LABEL_GAP + barLabelWidth + PAD;
  const xTitleBaseline = plotTop + plotHeight + TICK + LABEL_GAP + xLabelExtent + 8 + AXIS_FONT;
  const notesTop = Math.max(xTitleBaseline + 8, plotTop + barHeight + 8);
  const noteWidth = Math.max(0, ...notes.map((n) => 18 + textWidth(n.text, NOTE_FONT)));
  const width = Math.max(right, textWidth(title, TITLE_FONT) + 2 * PAD, plotLeft + noteWidth + PAD, plotLeft + plotWidth / 2 + Math.max(textWidth(input.b, AXIS_FONT), 1) / 2 + PAD);
  const height = notesTop + notes.length * NOTE_FONT * 1.6 + PAD;
  const layout: HeatmapLayout = {
    width,
    height,
    cell,
    plotLeft,
    plotTop,
    rows,
    cols,
    origin,
    cellOrigin: (i, j) => ({ x: plotLeft + j * cell, y: plotTop + (origin === 'bottom-left' ? rows - 1 - i : i) * cell }),
  };
  return { layout, title, domain, xTicks, yTicks, xLabels, yLabels, xLabelExtent, barTicks, barLabels, barHeight, hatchedCells, notes };
}

/** The figure's geometry, for callers that need to find a cell in the picture (tests, overlays). */
export function heatmapLayout(input: FigureComparison, options: HeatmapFigureOptions = {}): HeatmapLayout {
  return prepare(input, options).layout;
}

/** Adds cell (row, col) to a path in cell units, merging it into the run it continues. */
class CellPaths {
  private readonly runs = new Map<string, { row: number; start: number; end: number }[]>();

  add(key: string, row: number, col: number): void {
    let list = this.runs.get(key);
    if (list === undefined) this.runs.set(key, (list = []));
    const last = list.at(-1);
    if (last && last.row === row && last.end === col) last.end = col + 1;
    else list.push({ row, start: col, end: col + 1 });
  }

  entries(): [string, string][] {
    return [...this.runs].map(([key, list]) => [key, list.map((r) => `M${r.start} ${r.row}h${r.end - r.start}v1h${r.start - r.end}z`).join('')]);
  }
}

/** Diagonal stripes; `unit` scales the pattern (1 in pixels, 1/cell inside the cells' scaled group). */
function stripePattern(id: string, unit: number, background: string | undefined, stripes: readonly { offset: number; width: number; fill: string; opacity?: number }[]): string {
  const period = HATCH_PERIOD * unit;
  const parts = [background ? `<rect width="${period}" height="${period}" fill="${background}"/>` : ''];
  for (const s of stripes) parts.push(`<rect x="${s.offset * period}" width="${s.width * period}" height="${period}" fill="${s.fill}"${s.opacity === undefined ? '' : ` fill-opacity="${s.opacity}"`}/>`);
  return `<pattern id="${id}" patternUnits="userSpaceOnUse" width="${period}" height="${period}" patternTransform="rotate(45)">${parts.join('')}</pattern>`;
}

const undefinedPattern = (id: string, unit: number) => stripePattern(id, unit, '#d9d9d9', [{ offset: 0, width: 0.4, fill: '#8c8c8c' }]);
const hatchPattern = (id: string, unit: number) =>
  stripePattern(id, unit, undefined, [
    { offset: 0, width: 0.22, fill: '#ffffff', opacity: 0.85 },
    { offset: 0.22, width: 0.14, fill: '#000000', opacity: 0.7 },
  ]);

function colourBarGradient(id: string): string {
  const stops: string[] = [];
  const count = 17;
  for (let s = 0; s < count; s++) {
    const k = 3 * Math.round((s / (count - 1)) * (SCALE_STEPS - 1));
    stops.push(`<stop offset="${num(s / (count - 1))}" stop-color="${rgbHex([VIRIDIS_LUT[k], VIRIDIS_LUT[k + 1], VIRIDIS_LUT[k + 2]])}"/>`);
  }
  return `<linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">${stops.join('')}</linearGradient>`;
}

export function heatmapSvg(input: FigureComparison, options: HeatmapFigureOptions = {}): string {
  const p = prepare(input, options);
  const { layout, domain } = p;
  const { cell, plotLeft, plotTop, rows, cols, width } = layout;
  const plotWidth = cols * cell;
  const plotHeight = rows * cell;
  const unit = 1 / cell;
  const defs = [colourBarGradient('repsim-scale'), undefinedPattern('repsim-undefined-cells', unit), undefinedPattern('repsim-undefined-swatch', 1)];
  if (p.hatchedCells) defs.push(hatchPattern('repsim-hatch-cells', unit), hatchPattern('repsim-hatch-swatch', 1));

  // Cells: one path per colour, in cell units (compact for 350 × 350 heatmaps), runs of equal colour merged.
  const colours = new CellPaths();
  const overlays = new CellPaths();
  for (let i = 0; i < rows; i++) {
    const row = layout.origin === 'bottom-left' ? rows - 1 - i : i;
    for (let j = 0; j < cols; j++) {
      const value = input.matrix[i]?.[j] ?? null;
      if (value === null) overlays.add('url(#repsim-undefined-cells)', row, j);
      else colours.add(rgbHex(scaleRgb(value, domain)), row, j);
      if (p.hatchedCells?.[i]?.[j]) overlays.add('url(#repsim-hatch-cells)', row, j);
    }
  }
  const body: string[] = [];
  body.push(svgText(width / 2, PAD + TITLE_FONT, p.title, { size: TITLE_FONT, anchor: 'middle', className: 'title' }));
  body.push(`<g transform="translate(${num(plotLeft)} ${num(plotTop)}) scale(${num4(cell)})" shape-rendering="crispEdges">`);
  for (const [fill, d] of colours.entries()) body.push(`<path fill="${fill}" d="${d}"/>`);
  for (const [fill, d] of overlays.entries()) body.push(`<path class="${fill.includes('hatch') ? 'hatched' : 'undefined'}" fill="${fill}" d="${d}"/>`);
  body.push('</g>');
  body.push(`<rect x="${num(plotLeft)}" y="${num(plotTop)}" width="${num(plotWidth)}" height="${num(plotHeight)}" fill="none" stroke="${INK}" stroke-width="0.8"/>`);

  // Axes: ticks and labels at the centres of the labelled layers.
  const plotBottom = plotTop + plotHeight;
  const ticks: string[] = [];
  const labels: string[] = [];
  for (const j of p.xTicks) {
    const x = plotLeft + (j + 0.5) * cell;
    ticks.push(`M${num(x)} ${num(plotBottom)}v${TICK}`);
    labels.push(svgText(x, plotBottom + TICK + LABEL_GAP, p.xLabels[j], { size: TICK_FONT, anchor: 'end', rotate: -90, middle: true, className: 'x-tick', index: j }));
  }
  for (const i of p.yTicks) {
    const y = layout.cellOrigin(i, 0).y + cell / 2;
    ticks.push(`M${num(plotLeft - TICK)} ${num(y)}h${TICK}`);
    labels.push(svgText(plotLeft - TICK - LABEL_GAP, y, p.yLabels[i], { size: TICK_FONT, anchor: 'end', middle: true, className: 'y-tick', index: i }));
  }
  body.push(`<path d="${ticks.join('')}" stroke="${INK}" stroke-width="0.8" fill="none"/>`, ...labels);
  const xTitleY = plotBottom + TICK + LABEL_GAP + p.xLabelExtent + 8 + AXIS_FONT;
  body.push(svgText(plotLeft + plotWidth / 2, xTitleY, input.b, { size: AXIS_FONT, anchor: 'middle', className: 'x-title' }));
  // Model A's id runs up the side: no longer than the plot (or the colour bar, when that is taller) and a little more.
  body.push(svgText(PAD + AXIS_FONT * 0.9, plotTop + plotHeight / 2, fitText(input.a, AXIS_FONT, p.barHeight + 40), { size: AXIS_FONT, anchor: 'middle', rotate: -90, className: 'y-title' }));

  // The colour bar, the domain's minimum at the bottom.
  const barLeft = plotLeft + plotWidth + BAR_GAP;
  const barBottom = plotTop + p.barHeight;
  const span = domain.max - domain.min || 1;
  body.push(svgText(barLeft + BAR_WIDTH / 2, plotTop - 7, 'CKA', { size: TICK_FONT, anchor: 'middle' }));
  body.push(`<rect x="${num(barLeft)}" y="${num(plotTop)}" width="${BAR_WIDTH}" height="${num(p.barHeight)}" fill="url(#repsim-scale)" stroke="${INK}" stroke-width="0.6"/>`);
  const barTickPath = p.barTicks.map((v) => `M${num(barLeft + BAR_WIDTH)} ${num(barBottom - ((v - domain.min) / span) * p.barHeight)}h${TICK}`).join('');
  body.push(`<path d="${barTickPath}" stroke="${INK}" stroke-width="0.8" fill="none"/>`);
  p.barTicks.forEach((v, k) => {
    const y = barBottom - ((v - domain.min) / span) * p.barHeight;
    body.push(svgText(barLeft + BAR_WIDTH + TICK + LABEL_GAP, y, p.barLabels[k], { size: TICK_FONT, middle: true, className: 'bar-tick' }));
  });

  // Notes: what the hatchings mean.
  let noteY = Math.max(xTitleY + 8, barBottom + 8);
  for (const note of p.notes) {
    const swatch = note.swatch === 'undefined' ? 'url(#repsim-undefined-swatch)' : 'url(#repsim-hatch-swatch)';
    const base = note.swatch === 'hatch' ? `<rect x="${num(plotLeft)}" y="${num(noteY)}" width="12" height="12" fill="${rgbHex(scaleRgb(domain.min + 0.3 * span, domain))}"/>` : '';
    body.push(`${base}<rect class="note-swatch" x="${num(plotLeft)}" y="${num(noteY)}" width="12" height="12" fill="${swatch}" stroke="${MUTED_INK}" stroke-width="0.5"/>`);
    body.push(svgText(plotLeft + 18, noteY + 6, note.text, { size: NOTE_FONT, middle: true, fill: MUTED_INK, className: 'note' }));
    noteY += NOTE_FONT * 1.6;
  }
  const description = `${p.title}: ${input.a} (y) vs ${input.b} (x)`;
  return svgDocument(layout.width, layout.height, description, body, defs);
}

/** A scale factor with enough digits that 350 cells still add up to the plot's width. */
function num4(value: number): string {
  return String(Math.round(value * 10_000) / 10_000);
}
