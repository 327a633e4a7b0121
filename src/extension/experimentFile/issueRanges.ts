/**
 * A server validation issue → the editor range to underline: its text offset and length when
 * the server located it, else the node at its JSON path, else the file's first line.
 */
import { findNodeAtLocation, type Segment } from 'jsonc-parser/lib/esm/main.js';
import type { ValidationIssue } from '../../protocol/experiment.js';
import { LineIndex, type TextRange } from '../util/textPositions.js';
import { parseJsonc } from './experimentLocations.js';

/**
 * The server's JSON path → segments: `experiments[0].models.small.epochs`, with keys that are
 * not identifiers quoted: `experiments[0].models["seed-0"].seed`.
 */
export function parseIssuePath(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const match of path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] !== undefined) segments.push(JSON.parse(match[2]) as string);
    else segments.push(match[3]);
  }
  return segments;
}

export function issueRange(text: string, issue: ValidationIssue, lines: LineIndex = new LineIndex(text)): TextRange {
  if (typeof issue.offset === 'number' && Number.isFinite(issue.offset)) {
    const offset = Math.max(0, Math.min(issue.offset, text.length));
    const length = Math.max(1, issue.length ?? 1);
    return lines.rangeOf(offset, Math.min(length, text.length - offset));
  }
  const root = issue.path ? parseJsonc(text) : undefined;
  if (root) {
    // A path into a part being edited may not exist any more: fall back to its parents.
    const segments = parseIssuePath(issue.path);
    for (let n = segments.length; n > 0; n--) {
      const node = findNodeAtLocation(root, segments.slice(0, n));
      if (node) return lines.rangeOf(node.offset, node.length);
    }
  }
  return { start: { line: 0, character: 0 }, end: lines.positionAt(lines.lineEnd(0)) };
}
