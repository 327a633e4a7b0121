/**
 * Short, readable, unique layer names from an ONNX graph's node names.
 *
 * PyTorch names a node by the module scopes it ran in and its op: `/blocks/blocks.0/relu2/Relu`
 * is the Relu of module `blocks.0.relu2` (a child's scope repeats its parent's name: `blocks`,
 * `blocks.0`). The rule:
 *
 *  1. The node name (or, where it has none, its output's name) is split at `/`; the last part is
 *     the op (`Relu`, `Add_1`), the parts before it are the scope.
 *  2. A scope part that extends the part before it (`blocks` → `blocks.0`) replaces it; the parts
 *     are joined with `.` (`blocks.0.relu2`). Leading parts shared by every layer's scope
 *     (tf2onnx's `StatefulPartitionedCall/model`) are dropped.
 *  3. A module that holds no other layer's scope (a leaf: conv, ReLU, pool…) is named by its
 *     scope alone: its last layer gets `blocks.0.relu2`; earlier ones, if it has several (a
 *     Linear exported as MatMul + Add), get the op appended: `fc.matmul`, then `fc`.
 *  4. Ops run by a module itself around its children (a residual `out + x` in a block's forward)
 *     get the op appended to the scope, lowercased: `blocks.0.add`; ops at the top level are
 *     named by their op: `flatten`, `add_1`.
 *  5. The second and further outputs of a node get `:1`, `:2`…; a name still taken gets `#2`, `#3`….
 */

export interface NamedNode {
  /** The node's name (may be empty). */
  readonly node: string;
  readonly opType: string;
  /** The output's value name (names a node without a name). */
  readonly value: string;
  /** Which of the node's outputs this is. */
  readonly outputIndex: number;
}

interface Parsed {
  readonly scope: string[];
  readonly op: string;
}

function parse(entry: NamedNode): Parsed {
  const raw = entry.node || entry.value;
  const parts = raw.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { scope: [], op: entry.opType.toLowerCase() };
  const op = parts.pop()!;
  const scope: string[] = [];
  for (const part of parts) {
    if (scope.length > 0 && part.startsWith(`${scope[scope.length - 1]}.`)) scope[scope.length - 1] = part;
    else scope.push(part);
  }
  return { scope, op: op.toLowerCase() };
}

/** The layer names for graph values in forward order (see the module comment); same length and order as `entries`. */
export function readableLayerNames(entries: readonly NamedNode[]): string[] {
  const parsed = entries.map(parse);
  // Drop leading scope parts every layer shares, keeping at least one part in each scoped name.
  const scoped = parsed.filter((p) => p.scope.length > 0);
  let common = 0;
  if (scoped.length > 0 && scoped.length === parsed.length) {
    const first = scoped[0].scope;
    const shortest = Math.min(...scoped.map((p) => p.scope.length));
    while (common < shortest - 1 && scoped.every((p) => p.scope[common] === first[common])) common++;
  }
  const scopes = parsed.map((p) => p.scope.slice(common).join('.'));
  const parents = new Set<string>();
  for (const scope of scopes) {
    const parts = scope.split('.');
    for (let k = 1; k < parts.length; k++) parents.add(parts.slice(0, k).join('.'));
  }
  // A scope other layers' scopes extend (`blocks.0` of `blocks.0.relu2`) is no leaf module.
  // The last node in each scope (a node's several outputs are one node).
  const nodeKey = (k: number) => entries[k].node || entries[k].value;
  const lastInScope = new Map<string, string>();
  scopes.forEach((scope, k) => lastInScope.set(scope, nodeKey(k)));

  const used = new Map<string, number>();
  return entries.map((entry, k) => {
    const scope = scopes[k];
    const op = parsed[k].op;
    let name: string;
    if (scope === '') name = op;
    else if (!parents.has(scope) && lastInScope.get(scope) === nodeKey(k)) name = scope;
    else name = `${scope}.${op}`;
    if (entry.outputIndex > 0) name = `${name}:${entry.outputIndex}`;
    const seen = used.get(name) ?? 0;
    used.set(name, seen + 1);
    if (seen === 0) return name;
    let n = seen + 1;
    while (used.has(`${name}#${n}`)) n++;
    used.set(`${name}#${n}`, 1);
    return `${name}#${n}`;
  });
}
