/** Similarity matrices as CSV. */

export type Matrix = readonly (readonly (number | null)[])[];

/** CSV with model A's layers down the side and model B's across the top; null is empty. */
export function matrixToCsv(layersA: readonly string[], layersB: readonly string[], matrix: Matrix): string {
  const cell = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const header = ['layer', ...layersB].map(cell).join(',');
  const rows = layersA.map((name, i) => [cell(name), ...matrix[i].map((v) => (v === null ? '' : String(v)))].join(','));
  return `${[header, ...rows].join('\n')}\n`;
}
