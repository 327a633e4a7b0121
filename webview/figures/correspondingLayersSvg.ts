/**
 * The "corresponding layers" line plot as a standalone SVG, in the heatmap figure's style: CKA
 * of each layer with its counterpart (or its most similar layer of the other model, when the
 * layer counts differ) against the layer, with ± one standard error bars where the comparison
 * has them. Several comparisons (e.g. the same models under different estimators) draw as
 * several lines, told apart by colour (Okabe–Ito, safe for colour-vision deficiencies), dash
 * and a legend.
 */
import { formatTicks, niceTicks, thinnedIndices } from './axisTicks.js';
import { correspondingLayers, type CorrespondingCurve } from './correspondingLayers.js';
import type { FigureComparison } from './figureInput.js';
import { measureTitle, shortMeasure } from './figureTitle.js';
import { GRID, INK, MUTED_INK, num, shortenLabel, svgDocument, svgText, textWidth, AXIS_FONT, LABEL_GAP, LABEL_SPACING, NOTE_FONT, PAD, TICK, TICK_FONT, TITLE_FONT } from './svgMarkup.js';

export interface LayersFigureOptions {
  /** Legend entries, one per comparison (default: its name and measure). */
  readonly labels?: readonly string[];
  readonly title?: string;
}

const SUBTITLE_FONT = 11;
const PLOT_HEIGHT = 240;
const SERIES_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const SERIES_DASHES = ['', '6 3', '2 2', '8 3 2 3'];
/** Markers and error-bar caps only while points are this far apart or more. */
const MIN_MARKER_SPACING = 7;

const sameLayers = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((name, i) => name === b[i]);

export function correspondingLayersSvg(input: FigureComparison | readonly FigureComparison[], options: LayersFigureOptions = {}): string {
  const comparisons: readonly FigureComparison[] = Array.isArray(input) ? input : [input as FigureComparison];
  const curves: CorrespondingCurve[] = comparisons.map((c) => correspondingLayers(c));
  const count = Math.max(1, ...curves.map((c) => c.layers.length));
  const named = curves.every((c) => sameLayers(c.layers, curves[0].layers));
  const tickLabels = Array.from({ length: count }, (_, i) => (named ? shortenLabel(curves[0].layers[i] ?? String(i + 1)) : String(i + 1)));
  const single = comparisons.length === 1 ? comparisons[0] : undefined;
  const samePair = comparisons.every((c) => c.a === comparisons[0]?.a && c.b === comparisons[0]?.b);
  const title = options.title ?? 'CKA of corresponding layers';
  const subtitle = single ? `${single.a} vs ${single.b} · ${measureTitle(single)}` : samePair && comparisons.length > 0 ? `${comparisons[0].a} vs ${comparisons[0].b}` : '';
  const legend = comparisons.length > 1 ? comparisons.map((c, k) => options.labels?.[k] ?? `${c.name ?? `${c.a} vs ${c.b}`} (${shortMeasure(c)})`) : [];

  // The CKA axis: [0, 1], widened to hold every value and error bar.
  let low = 0;
  let high = 1;
  for (const curve of curves) {
    curve.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const se = curve.stderr[i] ?? 0;
      low = Math.min(low, v - se);
      high = Math.max(high, v + se);
    });
  }
  const yTicks = niceTicks(low, high, 5);
  // A little room above and below, so points at 0 or 1 do not sit on the frame.
  const margin = 0.03 * (Math.max(high, yTicks.at(-1) ?? high) - Math.min(low, yTicks[0] ?? low));
  low = Math.min(low, yTicks[0] ?? low) - margin;
  high = Math.max(high, yTicks.at(-1) ?? high) + margin;
  const yLabels = formatTicks(yTicks);

  // Layout.
  const plotWidth = Math.min(640, Math.max(300, count * 22));
  const spacing = plotWidth / count;
  const xTicks = thinnedIndices(count, spacing, LABEL_SPACING);
  const xLabelExtent = Math.max(0, ...xTicks.map((i) => textWidth(tickLabels[i], TICK_FONT)));
  const yLabelExtent = Math.max(0, ...yLabels.map((l) => textWidth(l, TICK_FONT)));
  const plotTop = PAD + TITLE_FONT * 1.3 + (subtitle ? SUBTITLE_FONT * 1.5 : 0) + 10;
  const plotLeft = PAD + AXIS_FONT * 1.2 + 8 + yLabelExtent + LABEL_GAP + TICK;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const legendLeft = plotLeft + plotWidth + 16;
  const legendWidth = legend.length ? 34 + Math.max(...legend.map((l) => textWidth(l, NOTE_FONT))) : 0;
  const bestMatch = curves.some((c) => c.pairing === 'best-match');
  const xTitle = single && bestMatch ? `Layer of ${single.a} (with its most similar layer of ${single.b})` : single && named ? `Layer (${single.a} and ${single.b})` : named ? 'Layer' : 'Layer (index)';
  const notes: string[] = [];
  if (curves.some((c) => c.stderr.some((s) => s !== null))) notes.push('Error bars: ± one standard error');
  if (bestMatch && !single) notes.push('Where the layer counts differ: each layer of A with its most similar layer of B');
  const xTitleY = plotBottom + TICK + LABEL_GAP + xLabelExtent + 8 + AXIS_FONT;
  const notesTop = xTitleY + 8;
  const width = Math.max(
    legendLeft + legendWidth + PAD,
    textWidth(title, TITLE_FONT) + 2 * PAD,
    textWidth(subtitle, SUBTITLE_FONT) + 2 * PAD,
    plotLeft + plotWidth / 2 + textWidth(xTitle, AXIS_FONT) / 2 + PAD,
    plotLeft + Math.max(0, ...notes.map((n) => textWidth(n, NOTE_FONT))) + PAD,
  );
  const height = notesTop + notes.length * NOTE_FONT * 1.6 + PAD;
  const xAt = (i: number) => plotLeft + (i + 0.5) * spacing;
  const yAt = (v: number) => plotBottom - ((v - low) / (high - low || 1)) * PLOT_HEIGHT;

  const body: string[] = [];
  body.push(svgText(width / 2, PAD + TITLE_FONT, title, { size: TITLE_FONT, anchor: 'middle', className: 'title' }));
  if (subtitle) body.push(svgText(width / 2, PAD + TITLE_FONT * 1.3 + SUBTITLE_FONT * 1.2, subtitle, { size: SUBTITLE_FONT, anchor: 'middle', fill: MUTED_INK, className: 'subtitle' }));
  // Grid, frame, axes.
  body.push(`<path d="${yTicks.map((v) => `M${num(plotLeft)} ${num(yAt(v))}h${num(plotWidth)}`).join('')}" stroke="${GRID}" stroke-width="0.8" fill="none"/>`);
  body.push(`<rect x="${num(plotLeft)}" y="${num(plotTop)}" width="${num(plotWidth)}" height="${PLOT_HEIGHT}" fill="none" stroke="${INK}" stroke-width="0.8"/>`);
  const ticks = [...yTicks.map((v) => `M${num(plotLeft - TICK)} ${num(yAt(v))}h${TICK}`), ...xTicks.map((i) => `M${num(xAt(i))} ${num(plotBottom)}v${TICK}`)];
  body.push(`<path d="${ticks.join('')}" stroke="${INK}" stroke-width="0.8" fill="none"/>`);
  yTicks.forEach((v, k) => body.push(svgText(plotLeft - TICK - LABEL_GAP, yAt(v), yLabels[k], { size: TICK_FONT, anchor: 'end', middle: true, className: 'y-tick' })));
  for (const i of xTicks) body.push(svgText(xAt(i), plotBottom + TICK + LABEL_GAP, tickLabels[i], { size: TICK_FONT, anchor: 'end', rotate: -90, middle: true, className: 'x-tick', index: i }));
  body.push(svgText(plotLeft + plotWidth / 2, xTitleY, xTitle, { size: AXIS_FONT, anchor: 'middle', className: 'x-title' }));
  body.push(svgText(PAD + AXIS_FONT * 0.9, plotTop + PLOT_HEIGHT / 2, 'CKA', { size: AXIS_FONT, anchor: 'middle', rotate: -90, className: 'y-title' }));

  // Series: error bars, then the line (broken where a value is undefined), then markers.
  const markers = spacing >= MIN_MARKER_SPACING;
  curves.forEach((curve, k) => {
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length];
    const dash = SERIES_DASHES[k % SERIES_DASHES.length];
    const bars: string[] = [];
    const line: string[] = [];
    let pen = false;
    curve.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      line.push(`${pen ? 'L' : 'M'}${num(xAt(i))} ${num(yAt(v))}`);
      pen = true;
      const se = curve.stderr[i];
      if (se !== null && se !== undefined && se > 0) {
        const cap = markers ? Math.min(3, spacing / 4) : 0;
        bars.push(`M${num(xAt(i))} ${num(yAt(v - se))}V${num(yAt(v + se))}`);
        if (cap) bars.push(`M${num(xAt(i) - cap)} ${num(yAt(v - se))}h${num(2 * cap)}M${num(xAt(i) - cap)} ${num(yAt(v + se))}h${num(2 * cap)}`);
      }
    });
    body.push(`<g class="series" data-series="${k}" data-pairing="${curve.pairing}">`);
    if (bars.length) body.push(`<path class="error-bars" d="${bars.join('')}" stroke="${colour}" stroke-width="0.9" fill="none"/>`);
    if (line.length) body.push(`<path class="line" d="${line.join('')}" stroke="${colour}" stroke-width="1.6" fill="none" stroke-linejoin="round"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    if (markers) {
      const dots = curve.values.map((v, i) => (v === null || !Number.isFinite(v) ? '' : `<circle cx="${num(xAt(i))}" cy="${num(yAt(v))}" r="2.6"/>`)).join('');
      body.push(`<g fill="${colour}" stroke="#ffffff" stroke-width="0.6">${dots}</g>`);
    }
    body.push('</g>');
  });

  // Legend (several comparisons) and notes.
  legend.forEach((label, k) => {
    const y = plotTop + 8 + k * NOTE_FONT * 1.8;
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length];
    const dash = SERIES_DASHES[k % SERIES_DASHES.length];
    body.push(`<path d="M${num(legendLeft)} ${num(y)}h24" stroke="${colour}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    body.push(`<circle cx="${num(legendLeft + 12)}" cy="${num(y)}" r="2.6" fill="${colour}" stroke="#ffffff" stroke-width="0.6"/>`);
    body.push(svgText(legendLeft + 30, y, label, { size: NOTE_FONT, middle: true, className: 'legend' }));
  });
  notes.forEach((note, k) => body.push(svgText(plotLeft, notesTop + NOTE_FONT + k * NOTE_FONT * 1.6, note, { size: NOTE_FONT, fill: MUTED_INK, className: 'note' })));
  const description = `${title}${subtitle ? ` (${subtitle})` : ''}`;
  return svgDocument(width, height, description, body);
}
