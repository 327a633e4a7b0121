/**
 * The heatmap's colour scale: viridis (perceptually uniform, readable on light, dark and
 * high-contrast backgrounds, and for the common colour-vision deficiencies), precomputed as a
 * 256-entry lookup table so painting 122,500 cells is a table lookup per cell.
 */

/** Polynomial fit of matplotlib's viridis (mattz, CC0), accurate to about one 8-bit step. */
const VIRIDIS_COEFFICIENTS: readonly (readonly [number, number, number])[] = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

export const SCALE_STEPS = 256;

function viridisChannel(t: number, channel: 0 | 1 | 2): number {
  let value = 0;
  for (let k = VIRIDIS_COEFFICIENTS.length - 1; k >= 0; k--) value = value * t + VIRIDIS_COEFFICIENTS[k][channel];
  return Math.round(Math.min(1, Math.max(0, value)) * 255);
}

/** RGB triples, step k at offset 3k. */
export const VIRIDIS_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(SCALE_STEPS * 3);
  for (let k = 0; k < SCALE_STEPS; k++) {
    const t = k / (SCALE_STEPS - 1);
    lut[3 * k] = viridisChannel(t, 0);
    lut[3 * k + 1] = viridisChannel(t, 1);
    lut[3 * k + 2] = viridisChannel(t, 2);
  }
  return lut;
})();

/** The value range a colour scale spans. */
export interface ScaleDomain {
  readonly min: number;
  readonly max: number;
}

/** CKA lives in [0, 1]; widen the domain only when an estimator strays outside (debiased can). */
export function ckaDomain(matrix: readonly (readonly (number | null)[])[]): ScaleDomain {
  let min = 0;
  let max = 1;
  for (const row of matrix) {
    for (const value of row) {
      if (value === null || !Number.isFinite(value)) continue;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  return { min, max };
}

/** Lookup-table step for a value (clamped to the domain). */
export function scaleStep(value: number, domain: ScaleDomain): number {
  const span = domain.max - domain.min || 1;
  const step = Math.round(((value - domain.min) / span) * (SCALE_STEPS - 1));
  return step < 0 ? 0 : step > SCALE_STEPS - 1 ? SCALE_STEPS - 1 : step;
}

export function scaleRgb(value: number, domain: ScaleDomain): [number, number, number] {
  const k = 3 * scaleStep(value, domain);
  return [VIRIDIS_LUT[k], VIRIDIS_LUT[k + 1], VIRIDIS_LUT[k + 2]];
}

export function rgbHex([r, g, b]: readonly [number, number, number]): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** CSS gradient stops (left = domain min) for the legend bar. */
export function scaleGradientCss(stops = 16): string {
  const parts: string[] = [];
  for (let s = 0; s < stops; s++) {
    const k = 3 * Math.round((s / (stops - 1)) * (SCALE_STEPS - 1));
    parts.push(`${rgbHex([VIRIDIS_LUT[k], VIRIDIS_LUT[k + 1], VIRIDIS_LUT[k + 2]])} ${((s / (stops - 1)) * 100).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}
