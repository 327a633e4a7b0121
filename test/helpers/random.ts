/** Seeded random test data: Gaussian draws and random orthogonal matrices. */
import { seededRandom } from '../../src/engine/random.js';

/** One standard normal draw (Box–Muller; 1 − u keeps the logarithm finite). */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A random size × size orthogonal matrix, as rows: Gram–Schmidt on a Gaussian matrix in float64. */
export function randomOrthogonalRows(size: number, seed: number): number[][] {
  const random = seededRandom(seed);
  const basis: number[][] = [];
  while (basis.length < size) {
    const v = Array.from({ length: size }, () => gaussian(random));
    for (const b of basis) {
      const dot = v.reduce((s, x, i) => s + x * b[i], 0);
      b.forEach((x, i) => (v[i] -= dot * x));
    }
    const norm = Math.hypot(...v);
    basis.push(v.map((x) => x / norm));
  }
  return basis;
}
