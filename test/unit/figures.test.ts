/**
 * Publication figures (webview/figures, src/server/output/figurePng): the SVGs are well-formed
 * XML (sax, strict), carry their titles, escape user text, thin dense tick labels without
 * overlap, put layer 1 where asked, mark undefined and non-significant cells; the PNG is the
 * same figure at 2× in the scale's colours.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import type { ComparisonResult } from '../../src/protocol/results.js';
import { svgToPng } from '../../src/server/output/figurePng.js';
import { ckaDomain, scaleRgb } from '../../webview/charts/colorScale.js';
import { formatTicks, niceTicks, thinnedIndices } from '../../webview/figures/axisTicks.js';
import { correspondingLayers } from '../../webview/figures/correspondingLayers.js';
import { correspondingLayersSvg } from '../../webview/figures/correspondingLayersSvg.js';
import type { FigureComparison } from '../../webview/figures/figureInput.js';
import { measureTitle } from '../../webview/figures/figureTitle.js';
import { heatmapLayout, heatmapSvg } from '../../webview/figures/heatmapSvg.js';
import { escapeXml, textWidth } from '../../webview/figures/svgMarkup.js';

interface SaxParser {
  onopentag: (node: { name: string; attributes: Record<string, string> }) => void;
  onclosetag: () => void;
  ontext: (text: string) => void;
  onerror: (error: Error) => void;
  write(text: string): SaxParser;
  close(): void;
}
// sax has no type declarations; its strict parser refuses anything that is not well-formed XML.
const sax = require('sax') as { parser(strict: boolean): SaxParser };

interface Element {
  readonly name: string;
  readonly attributes: Record<string, string>;
  text: string;
  readonly parent?: Element;
}

/** Every element of a well-formed document (throws on the first XML error), with its own text. */
function parseSvg(svg: string): Element[] {
  const elements: Element[] = [];
  const stack: Element[] = [];
  const parser = sax.parser(true);
  parser.onerror = (error) => {
    throw error;
  };
  parser.onopentag = (node) => {
    const element: Element = { name: node.name, attributes: node.attributes, text: '', parent: stack.at(-1) };
    elements.push(element);
    stack.push(element);
  };
  parser.onclosetag = () => void stack.pop();
  parser.ontext = (text) => {
    const top = stack.at(-1);
    if (top) top.text += text;
  };
  parser.write(svg).close();
  assert.equal(stack.length, 0, 'every element closed');
  return elements;
}

const byClass = (elements: Element[], name: string) => elements.filter((e) => e.attributes.class === name);
const textOf = (elements: Element[], name: string) => byClass(elements, name).map((e) => e.text);
/** A label's anchor: x/y, or the translate() of a rotated one. */
function anchor(element: Element): { x: number; y: number } {
  const translate = /translate\(([-\d.]+) ([-\d.]+)\)/.exec(element.attributes.transform ?? '');
  return translate ? { x: Number(translate[1]), y: Number(translate[2]) } : { x: Number(element.attributes.x), y: Number(element.attributes.y) };
}
/** The cells a path in cell units covers, as "row,col" (runs written M{col} {row}h{n}v1h-{n}z). */
function cellsOf(d: string): Set<string> {
  const cells = new Set<string>();
  for (const [, col, row, width] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) for (let k = 0; k < Number(width); k++) cells.add(`${row},${Number(col) + k}`);
  return cells;
}

const SETTINGS = { kernel: 'linear', estimator: 'minibatch', batchSize: 256, passes: 1, seed: 0, permutations: 100 } as const;

function comparison(n: number, extra: Partial<FigureComparison> = {}): FigureComparison {
  const layers = Array.from({ length: n }, (_, i) => `block${i + 1}`);
  return {
    name: 'a-vs-b',
    a: 'model A',
    b: 'model B',
    layersA: layers,
    layersB: layers,
    matrix: layers.map((_, i) => layers.map((_, j) => Math.round(100 * Math.exp(-Math.abs(i - j) / 3)) / 100)),
    stderr: layers.map(() => layers.map(() => 0.01)),
    settings: SETTINGS,
    examples: 10_000,
    ...extra,
  };
}

describe('heatmap SVG', () => {
  test('well-formed, with the measure as title and the model ids as axis titles', () => {
    const elements = parseSvg(heatmapSvg(comparison(4)));
    assert.equal(elements[0].name, 'svg');
    assert.equal(elements[0].attributes.xmlns, 'http://www.w3.org/2000/svg');
    assert.deepEqual(textOf(elements, 'title'), ['Linear CKA (minibatch, batch 256, 1 pass, 10,000 examples)']);
    assert.deepEqual(textOf(elements, 'x-title'), ['model B']);
    assert.deepEqual(textOf(elements, 'y-title'), ['model A']);
    assert.deepEqual(textOf(elements, 'x-tick'), ['block1', 'block2', 'block3', 'block4']);
    assert.equal(elements.find((e) => e.name === 'rect' && e.parent === elements[0])?.attributes.fill, '#ffffff', 'white paper');
  });

  test('the title says how CKA was computed', () => {
    assert.equal(measureTitle({ settings: { ...SETTINGS, passes: 10 }, examples: 1234 }), 'Linear CKA (minibatch, batch 256, 10 passes, 1,234 examples)');
    assert.equal(measureTitle({ settings: { ...SETTINGS, kernel: 'rbf', threshold: 0.5, estimator: 'debiased' }, examples: 500 }), 'RBF CKA (threshold 0.5, debiased, 500 examples)');
    assert.equal(measureTitle({}), 'CKA');
  });

  test('layer names and model ids are escaped: user text never becomes markup', () => {
    const evil = `</text><script>&"'`;
    const svg = heatmapSvg(comparison(2, { a: evil, layersA: [evil, 'ok\u0001'], layersB: ['p', 'q'] }));
    assert.ok(!svg.includes('<script>'));
    const elements = parseSvg(svg);
    assert.ok(!elements.some((e) => e.name === 'script'));
    assert.deepEqual(textOf(elements, 'y-title'), [evil]);
    assert.deepEqual(textOf(elements, 'y-tick'), [evil, 'ok\ufffd'], 'a control character, not allowed in XML, replaced');
    assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
  });

  test('long names are shortened in the middle: tick labels to 26 characters, model A to the height of the plot', () => {
    const longId = `resnet-${'x'.repeat(80)}-seed-0`;
    const elements = parseSvg(heatmapSvg(comparison(2, { a: longId, layersA: [`stem/${'y'.repeat(40)}/relu`, 'b'], layersB: ['p', 'q'] })));
    const [yTitle] = textOf(elements, 'y-title');
    assert.ok(yTitle.startsWith('resnet-') && yTitle.endsWith('-seed-0') && yTitle.includes('…') && textWidth(yTitle, 12) <= 160 + 40, yTitle);
    const [label] = textOf(elements, 'y-tick');
    assert.equal([...label].length, 26);
    assert.match(label, /^stem\/y+…y+\/relu$/);
  });

  test('200 layers: tick labels thinned so none are closer than the font size, the first and last kept', () => {
    const elements = parseSvg(heatmapSvg(comparison(200)));
    for (const [axis, coordinate] of [['x-tick', 'x'], ['y-tick', 'y']] as const) {
      const ticks = byClass(elements, axis);
      assert.ok(ticks.length > 5 && ticks.length < 200, `${axis}: ${ticks.length} labels`);
      const indices = ticks.map((t) => Number(t.attributes['data-index']));
      assert.ok(indices.includes(0) && indices.includes(199), `${axis}: first and last`);
      const positions = ticks.map((t) => anchor(t)[coordinate]).sort((p, q) => p - q);
      const fontSize = Number(ticks[0].attributes['font-size']);
      for (let k = 1; k < positions.length; k++) assert.ok(positions[k] - positions[k - 1] >= fontSize, `${axis}: labels ${positions[k - 1]} and ${positions[k]} overlap`);
    }
  });

  test('origin: layer 1 at the bottom left by default, at the top left when asked', () => {
    const input = comparison(5);
    const rowOfLayer1 = (svg: string) => {
      const ticks = byClass(parseSvg(svg), 'y-tick');
      const y = (index: number) => anchor(ticks.find((t) => t.attributes['data-index'] === String(index))!).y;
      return y(0) > y(4) ? 'bottom' : 'top';
    };
    assert.equal(rowOfLayer1(heatmapSvg(input)), 'bottom');
    assert.equal(rowOfLayer1(heatmapSvg(input, { origin: 'top-left' })), 'top');
    // The cells follow: row 0 of the matrix (a unique value at its first cell) is drawn in the last row of cells, or the first.
    const marked = { ...input, matrix: input.matrix.map((row, i) => row.map((v, j) => (i === 0 && j === 0 ? 0.5 : v))) };
    const colour = `#${scaleRgb(0.5, { min: 0, max: 1 }).map((c) => c.toString(16).padStart(2, '0')).join('')}`;
    const cellsInColour = (svg: string) => cellsOf(parseSvg(svg).find((e) => e.name === 'path' && e.attributes.fill === colour)!.attributes.d);
    assert.deepEqual([...cellsInColour(heatmapSvg(marked))], ['4,0']);
    assert.deepEqual([...cellsInColour(heatmapSvg(marked, { origin: 'top-left' }))], ['0,0']);
    assert.equal(heatmapLayout(input).cellOrigin(0, 0).y > heatmapLayout(input).cellOrigin(4, 0).y, true);
  });

  test('a colour bar with round ticks over the domain, widened when an estimator strays outside [0, 1]', () => {
    assert.deepEqual(textOf(parseSvg(heatmapSvg(comparison(3))), 'bar-tick'), ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    const wide = comparison(4, { matrix: [[-0.3, 0.5, 0.5, 0.5], [0.5, 1.2, 0.5, 0.5], [0.5, 0.5, 1, 0.5], [0.5, 0.5, 0.5, 1]] });
    assert.deepEqual(textOf(parseSvg(heatmapSvg(wide)), 'bar-tick'), ['-0.2', '0.0', '0.2', '0.4', '0.6', '0.8', '1.0', '1.2']);
    assert.deepEqual(formatTicks(niceTicks(0, 0.05, 5)), ['0.00', '0.01', '0.02', '0.03', '0.04', '0.05']);
    assert.deepEqual(textOf(parseSvg(heatmapSvg(comparison(2))), 'bar-tick'), ['0.0', '0.5', '1.0'], 'a short bar: fewer ticks');
  });

  test('undefined cells are hatched grey, with a note saying what that means', () => {
    const input = comparison(3, { matrix: [[1, null, 0.2], [0.5, 1, 0.3], [0.1, 0.2, null]] });
    const elements = parseSvg(heatmapSvg(input, { origin: 'top-left' }));
    const undefinedCells = byClass(elements, 'undefined');
    assert.equal(undefinedCells.length, 1);
    assert.equal(undefinedCells[0].attributes.fill, 'url(#repsim-undefined-cells)');
    assert.deepEqual([...cellsOf(undefinedCells[0].attributes.d)].sort(), ['0,1', '2,2']);
    assert.match(textOf(elements, 'note').join('\n'), /CKA undefined/);
    assert.deepEqual(textOf(parseSvg(heatmapSvg(comparison(3))), 'note'), [], 'no note without undefined cells');
  });

  test('significance: with alpha, exactly the defined cells with p > alpha are hatched, and a note says so', () => {
    const pValue = [
      [0.01, 0.2, 0.04],
      [0.06, 0.01, null],
      [0.5, 0.05, 0.9],
    ];
    const input = comparison(3, { matrix: [[1, 0.4, 0.2], [0.5, 1, 0.3], [0.1, 0.2, null]], significance: { pValue, permutations: 100 } });
    const elements = parseSvg(heatmapSvg(input, { alpha: 0.05, origin: 'top-left' }));
    const hatched = byClass(elements, 'hatched');
    assert.equal(hatched.length, 1);
    assert.deepEqual([...cellsOf(hatched[0].attributes.d)].sort(), ['0,1', '1,0', '2,0'], 'p = 0.05 is not above alpha; undefined CKA and untested cells are not hatched');
    assert.ok(textOf(elements, 'note').includes('p > 0.05 (permutation test, 100 permutations)'));
    for (const svg of [heatmapSvg(input), heatmapSvg(comparison(3), { alpha: 0.05 })]) {
      const plain = parseSvg(svg);
      assert.deepEqual(byClass(plain, 'hatched'), [], 'no alpha, or no test: no hatching');
      assert.ok(!textOf(plain, 'note').some((n) => n.startsWith('p >')));
    }
  });
});

describe('corresponding layers SVG', () => {
  test('the diagonal when the layer counts match, else each layer of A with its most similar layer of B', () => {
    const same = correspondingLayers({ layersA: ['x', 'y'], layersB: ['x', 'y'], matrix: [[0.9, 0.1], [0.2, 0.8]], stderr: [[0.01, 0], [0, 0.02]] });
    assert.deepEqual([same.pairing, same.values, same.stderr], ['diagonal', [0.9, 0.8], [0.01, 0.02]]);
    const differ = correspondingLayers({ layersA: ['x', 'y'], layersB: ['p', 'q', 'r'], matrix: [[0.1, 0.7, null], [null, null, null]], stderr: [[0, 0.03, 0], [0, 0, 0]] });
    assert.deepEqual([differ.pairing, differ.values, differ.partners, differ.stderr], ['best-match', [0.7, null], ['q', null], [0.03, null]]);
  });

  test('well-formed: axes, ticks, error bars, and one line per comparison with a legend', () => {
    const one = parseSvg(correspondingLayersSvg(comparison(6) as ComparisonResult));
    assert.deepEqual(textOf(one, 'title'), ['CKA of corresponding layers']);
    assert.match(textOf(one, 'subtitle')[0], /^model A vs model B · Linear CKA \(minibatch/);
    assert.deepEqual(textOf(one, 'y-title'), ['CKA']);
    assert.equal(byClass(one, 'x-tick').length, 6);
    assert.ok(textOf(one, 'y-tick').includes('1.0'));
    assert.equal(byClass(one, 'line').length, 1);
    assert.equal(byClass(one, 'error-bars').length, 1);
    assert.deepEqual(textOf(one, 'legend'), [], 'one line needs no legend');

    const debiased = comparison(6, { name: 'debiased <b>', settings: { ...SETTINGS, estimator: 'debiased' } });
    const two = parseSvg(correspondingLayersSvg([comparison(6), debiased]));
    assert.equal(byClass(two, 'series').length, 2);
    assert.deepEqual(textOf(two, 'legend'), ['a-vs-b (linear, minibatch)', 'debiased <b> (linear, debiased)']);
    const lines = byClass(two, 'line');
    assert.notEqual(lines[0].attributes.stroke, lines[1].attributes.stroke);
  });

  test('200 layers: thinned labels, no markers crowding the line', () => {
    const elements = parseSvg(correspondingLayersSvg(comparison(200)));
    const ticks = byClass(elements, 'x-tick');
    const indices = ticks.map((t) => Number(t.attributes['data-index']));
    assert.ok(indices.includes(0) && indices.includes(199) && ticks.length < 200);
    const xs = ticks.map((t) => anchor(t).x);
    for (let k = 1; k < xs.length; k++) assert.ok(xs[k] - xs[k - 1] >= 10);
    assert.equal(elements.filter((e) => e.name === 'circle').length, 0);
  });
});

describe('tick thinning', () => {
  test('every label when there is room; a round step otherwise; first and last always', () => {
    assert.deepEqual(thinnedIndices(5, 20, 12), [0, 1, 2, 3, 4]);
    assert.deepEqual(thinnedIndices(200, 2.4, 13).slice(0, 3), [0, 10, 20]);
    assert.equal(thinnedIndices(200, 2.4, 13).at(-1), 199);
    for (const [count, spacing] of [[7, 5], [13, 3], [101, 1.7], [350, 480 / 350], [2, 3]]) {
      const kept = thinnedIndices(count, spacing, 12);
      assert.equal(kept[0], 0);
      for (let k = 1; k < kept.length; k++) assert.ok((kept[k] - kept[k - 1]) * spacing >= 12 - 1e-9, `${count} × ${spacing}: ${kept}`);
      if ((count - 1) * spacing >= 12) assert.equal(kept.at(-1), count - 1, `${count} × ${spacing}: last kept`);
    }
  });

  test('text widths from DejaVu Sans', () => {
    assert.equal(textWidth('0', 10), 6.36);
    assert.ok(textWidth('mmm', 10) > textWidth('iii', 10) * 3);
  });
});

describe('PNG', () => {
  test('the same figure at 2×, cells in the colour scale, layer 1 at the bottom left', async () => {
    const input = comparison(3, { matrix: [[0.9, 0.1, 0.3], [0.2, 0.6, null], [0.05, 0.4, 1]] });
    const layout = heatmapLayout(input);
    const png = PNG.sync.read(await svgToPng(heatmapSvg(input)));
    assert.equal(png.width, 2 * Math.ceil(layout.width));
    assert.equal(png.height, 2 * Math.ceil(layout.height));
    const pixel = (x: number, y: number) => {
      const at = (Math.round(2 * y) * png.width + Math.round(2 * x)) * 4;
      return [...png.data.subarray(at, at + 4)];
    };
    const domain = ckaDomain(input.matrix);
    for (const [i, j] of [[0, 0], [0, 1], [2, 2], [1, 1]]) {
      const { x, y } = layout.cellOrigin(i, j);
      const got = pixel(x + layout.cell / 2, y + layout.cell / 2);
      const want = scaleRgb(input.matrix[i][j] as number, domain);
      assert.ok(want.every((c, k) => Math.abs(c - got[k]) <= 1), `cell (${i}, ${j}): rgb(${got.slice(0, 3)}), want rgb(${want})`);
      assert.equal(got[3], 255);
    }
    assert.ok(layout.cellOrigin(0, 0).y > layout.cellOrigin(2, 0).y, 'row 0 at the bottom');
    assert.deepEqual(pixel(2, 2), [255, 255, 255, 255], 'white paper');
    // Text was drawn: dark pixels in the title band.
    let dark = 0;
    for (let x = 0; x < png.width; x++) for (let y = 0; y < 2 * layout.plotTop - 30; y++) if (png.data[(y * png.width + x) * 4] < 100) dark++;
    assert.ok(dark > 100, `title drawn (${dark} dark pixels)`);
  });

  test('the layers plot rasterizes too', async () => {
    const png = PNG.sync.read(await svgToPng(correspondingLayersSvg(comparison(5))));
    assert.ok(png.width > 600 && png.height > 400);
  });
});
