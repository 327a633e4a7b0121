/**
 * Reads an experiment file: JSON with comments, checked against the shipped schema with ajv.
 * Every issue names its JSON path, says what is expected, and carries the text offset of the
 * offending value so the editor can underline it.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { findNodeAtLocation, parseTree, stripComments, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import schema from '../../../schemas/repsim.schema.json';
import type { ExperimentFile, ValidationIssue } from '../../protocol/experiment.js';

// verbose: errors carry their schema, which the oneOf branch matching and messages read.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateSchema = ajv.compile<ExperimentFile>(schema);

export interface ParsedExperimentFile {
  /** The parsed file when it is valid against the schema, else null. */
  readonly file: ExperimentFile | null;
  readonly issues: ValidationIssue[];
  /** The syntax tree, for locating later issues in the text. */
  readonly root?: Node;
}

export function parseExperimentText(text: string): ParsedExperimentFile {
  if (stripComments(text).trim() === '') return { file: null, issues: [{ severity: 'error', path: '', message: 'the file is empty: expected an object with "experiments"' }] };
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(text, syntaxErrors, { allowTrailingComma: true, disallowComments: false });
  if (syntaxErrors.length > 0 || !root) {
    return { file: null, issues: syntaxErrors.map((e) => syntaxIssue(text, e)) };
  }
  const value = nodeValue(root);
  if (validateSchema(value)) return { file: value, issues: [], root };
  const issues = readableErrors(validateSchema.errors ?? [], value).map((e) => locate(root, e));
  return { file: null, issues: dedupe(issues).sort((x, y) => (x.offset ?? 0) - (y.offset ?? 0)), root };
}

function syntaxIssue(text: string, error: ParseError): ValidationIssue {
  const before = text.slice(0, error.offset);
  const line = before.split('\n').length;
  const column = error.offset - before.lastIndexOf('\n');
  return { severity: 'error', path: '', message: `line ${line}, column ${column}: ${describeSyntaxError(printParseErrorCode(error.error))}`, offset: error.offset, length: Math.max(error.length, 1) };
}

function describeSyntaxError(code: string): string {
  const words = code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return `invalid JSON (${words})`;
}

function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries((node.children ?? []).map((p) => [p.children![0].value as string, p.children![1] ? nodeValue(p.children![1]) : undefined]));
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

interface PathedError {
  readonly segments: (string | number)[];
  readonly message: string;
}

/**
 * ajv's errors made readable. A failed oneOf reports every branch's complaints; instead the
 * value is checked against each branch on its own and only the branch the author evidently
 * meant is reported (or, when every branch misses its key property, the alternatives).
 */
function readableErrors(errors: readonly ErrorObject[], data: unknown): PathedError[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const outermost = oneOfs.filter((e) => !oneOfs.some((o) => o !== e && e.instancePath.startsWith(`${o.instancePath}/`)));
  const replaced = (e: ErrorObject) => outermost.some((o) => e.instancePath === o.instancePath || e.instancePath.startsWith(`${o.instancePath}/`));
  const kept = errors.filter((e) => !replaced(e)).map((e) => describe(e, data));
  return [...kept, ...outermost.flatMap((o) => explainOneOf(o, data))];
}

function explainOneOf(oneOf: ErrorObject, data: unknown): PathedError[] {
  const value = valueAt(data, oneOf.instancePath);
  const branches = (oneOf.schema as object[]).map((branch) => {
    const validate = branchValidator(branch);
    validate(value);
    return (validate.errors ?? []).map((e) => ({ ...e, instancePath: oneOf.instancePath + e.instancePath }));
  });
  const missingKeys = branches.map((b) => b.find((e) => e.keyword === 'required' && e.instancePath === oneOf.instancePath));
  if (branches.length > 1 && missingKeys.every(Boolean)) {
    const keys = missingKeys.map((e) => `'${(e!.params as { missingProperty: string }).missingProperty}'`);
    return [{ segments: pointerSegments(oneOf.instancePath, data), message: `expected an object with ${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}` }];
  }
  const chosen = branches[chooseBranch(branches)];
  if (chosen.length === 0) return [describe(oneOf, data)];
  return readableErrors(chosen, data);
}

const branchValidators = new Map<string, ValidateFunction>();
function branchValidator(branch: object): ValidateFunction {
  const key = JSON.stringify(branch);
  let validate = branchValidators.get(key);
  if (!validate) {
    const ref = (branch as { $ref?: string }).$ref;
    validate = ref ? ajv.getSchema(`${schema.$id}${ref}`)! : ajv.compile(branch);
    branchValidators.set(key, validate);
  }
  return validate;
}

function valueAt(data: unknown, pointer: string): unknown {
  return pointerSegments(pointer, data).reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], data);
}

/** The branch the author evidently meant: the fewest mismatches of shape at the value itself. */
function chooseBranch(branches: ErrorObject[][]): number {
  const shapeErrors = (b: ErrorObject[]) => b.filter((e) => ['type', 'required', 'const', 'enum', 'additionalProperties'].includes(e.keyword)).length;
  let best = 0;
  branches.forEach((b, i) => {
    const [s, t] = [shapeErrors(b), b.length];
    const [bs, bt] = [shapeErrors(branches[best]), branches[best].length];
    if (s < bs || (s === bs && t < bt)) best = i;
  });
  return best;
}

function describe(e: ErrorObject, data: unknown): PathedError {
  const segments = pointerSegments(e.instancePath, data);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { segments, message: `missing required property '${params.missingProperty}'` };
    case 'additionalProperties':
      return { segments: [...segments, params.additionalProperty as string], message: `unknown property '${params.additionalProperty}'${allowedProperties(e)}` };
    case 'type':
      return { segments, message: `expected ${article(String(params.type))}` };
    case 'enum':
      return { segments, message: `expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { segments, message: `expected ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      return { segments, message: patternMessage(segments, params.pattern as string) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { segments, message: `expected a number ${{ minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword]} ${params.limit}` };
    case 'minItems':
      return { segments, message: `expected at least ${params.limit} item${params.limit === 1 ? '' : 's'}` };
    case 'maxItems':
      return { segments, message: `expected at most ${params.limit} items` };
    case 'minProperties':
      return { segments, message: `expected at least ${params.limit} entr${params.limit === 1 ? 'y' : 'ies'}` };
    case 'minLength':
      return { segments, message: 'expected a non-empty string' };
    case 'oneOf':
      return { segments, message: 'matches more than one form; remove the properties of the others' };
    case 'propertyNames':
      return { segments: [...segments, params.propertyName as string], message: `'${params.propertyName}' is not a valid id: use letters, digits, '.', '_' and '-', starting with a letter or digit` };
    default:
      return { segments, message: e.message ?? 'invalid value' };
  }
}

function allowedProperties(e: ErrorObject): string {
  const properties = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {}).filter((k) => k !== '$schema');
  return properties.length ? `; expected ${properties.map((p) => `'${p}'`).join(', ')}` : '';
}

function patternMessage(segments: (string | number)[], pattern: string): string {
  const key = segments.at(-1);
  if (key === 'architecture') return 'expected an architecture like resnet-20, resnet-56-w4, resnet-50 or plain-cnn-10';
  if (key === 'name') return "expected letters, digits, '.', '_' and '-', starting with a letter or digit";
  return `expected a value matching ${pattern}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function pointerSegments(pointer: string, data: unknown): (string | number)[] {
  const segments: (string | number)[] = [];
  let current = data as Record<string, unknown> | unknown[] | undefined;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(current) ? Number(key) : key;
    segments.push(segment);
    current = (current === undefined ? undefined : (current as Record<string, unknown>)[key]) as typeof current;
  }
  return segments;
}

/** `experiments[0].models.small.seed`; keys that are not identifiers are quoted. */
export function formatPath(segments: readonly (string | number)[]): string {
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `${i ? '.' : ''}${s}` : `[${JSON.stringify(s)}]`))
    .join('');
}

/** An issue at a JSON path, located in the text when the path exists there. */
export function issueAt(root: Node | undefined, segments: readonly (string | number)[], message: string, severity: ValidationIssue['severity'] = 'error'): ValidationIssue {
  const issue = root ? locate(root, { segments: [...segments], message }) : { path: formatPath(segments), message: `${formatPath(segments) || 'file'}: ${message}`, severity };
  return { ...issue, severity };
}

function locate(root: Node, error: PathedError): ValidationIssue {
  let node: Node | undefined;
  for (let depth = error.segments.length; depth >= 0 && !node; depth--) node = findNodeAtLocation(root, error.segments.slice(0, depth));
  // For an unknown property, point at its key rather than its value.
  const target = node?.parent?.type === 'property' && error.message.startsWith('unknown property') ? node.parent.children![0] : node;
  const path = formatPath(error.segments);
  return { severity: 'error', path, message: `${path || 'file'}: ${error.message}`, offset: target?.offset, length: target?.length };
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => (seen.has(i.message) ? false : (seen.add(i.message), true)));
}
