/**
 * SVG figures → PNG, in Node, with resvg (@resvg/resvg-wasm: WebAssembly, so one build serves
 * every platform) and the figures' own font, DejaVu Sans, so the picture is the same wherever
 * it is drawn. The build copies the .wasm to dist/resvg.wasm and the font to media/fonts/;
 * from source (tests) both come from node_modules.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { findPackageRoot } from '../../engine/packageRoot.js';
import { FIGURE_FONT } from '../../../webview/figures/svgMarkup.js';

/** Figures are drawn in SVG pixels; PNGs at twice that for print. */
export const PNG_SCALE = 2;

/** The built copy when there is one, else the package's own file. */
function assetPath(built: string, packaged: string): string {
  const path = join(findPackageRoot(), built);
  return existsSync(path) ? path : require.resolve(packaged);
}

let fontBytes: Promise<Uint8Array> | undefined;

function loadRasterizer(): Promise<Uint8Array> {
  fontBytes ??= (async () => {
    const [wasm, font] = await Promise.all([
      readFile(assetPath(join('dist', 'resvg.wasm'), '@resvg/resvg-wasm/index_bg.wasm')),
      readFile(assetPath(join('media', 'fonts', 'DejaVuSans.ttf'), 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
    ]);
    await initWasm(wasm);
    return new Uint8Array(font);
  })().catch((error: unknown) => {
    fontBytes = undefined; // a later figure tries again
    throw new Error(`cannot load the PNG rasterizer (resvg): ${(error as Error)?.message ?? error}`);
  });
  return fontBytes;
}

/** The SVG drawn at `scale` pixels per SVG pixel on white. */
export async function svgToPng(svg: string, scale = PNG_SCALE): Promise<Buffer> {
  const font = await loadRasterizer();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { fontBuffers: [font], defaultFontFamily: FIGURE_FONT, sansSerifFamily: FIGURE_FONT },
  });
  try {
    const image = resvg.render();
    try {
      return Buffer.from(image.asPng());
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}
