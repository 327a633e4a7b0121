import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { experimentOutputDirectory, experimentResultsFile, isExperimentFilePath, locateExperiments } from '../../src/extension/experimentFile/experimentLocations.js';
import { issueRange, parseIssuePath } from '../../src/extension/experimentFile/issueRanges.js';
import { LineIndex } from '../../src/extension/util/textPositions.js';

const FILE = `// two experiments
{
  "version": 1,
  /* block comment */
  "experiments": [
    {
      "name": "first",
      "models": { "a": { "architecture": "resnet-20" } },
      "comparisons": [{ "a": "a", "b": "a" }],
    },
    { "name": "second", "output": "out/second", "models": {}, "comparisons": [] },
    { "models": {} },
    "not an object",
  ],
}
`;

test('LineIndex counts lines as VS Code does (\\n, \\r\\n, \\r) and clamps offsets', () => {
  const lines = new LineIndex('ab\ncd\r\nef\rgh');
  assert.equal(lines.lineCount, 4);
  assert.deepEqual(lines.positionAt(0), { line: 0, character: 0 });
  assert.deepEqual(lines.positionAt(3), { line: 1, character: 0 });
  assert.deepEqual(lines.positionAt(5), { line: 1, character: 2 });
  assert.deepEqual(lines.positionAt(7), { line: 2, character: 0 });
  assert.deepEqual(lines.positionAt(10), { line: 3, character: 0 });
  assert.deepEqual(lines.positionAt(99), { line: 3, character: 2 });
  assert.deepEqual(lines.positionAt(-5), { line: 0, character: 0 });
  assert.equal(lines.lineEnd(1), 5);
  assert.equal(lines.lineEnd(3), 12);
});

test('locateExperiments finds each experiment object of a JSONC file, with its name and output', () => {
  const found = locateExperiments(FILE);
  assert.deepEqual(
    found.map(({ index, name, output }) => ({ index, name, output })),
    [
      { index: 0, name: 'first', output: undefined },
      { index: 1, name: 'second', output: 'out/second' },
      { index: 2, name: undefined, output: undefined },
    ],
  );
  // CodeLens sit on the line of each object's opening brace.
  assert.deepEqual(found[0].range.start, { line: 5, character: 4 });
  assert.deepEqual(found[1].range.start, { line: 10, character: 4 });
  assert.equal(FILE.slice(found[1].offset, found[1].offset + found[1].length).startsWith('{ "name": "second"'), true);
  assert.equal(FILE[found[0].offset + found[0].length - 1], '}');
});

test('locateExperiments survives broken and unrelated text', () => {
  assert.deepEqual(locateExperiments(''), []);
  assert.deepEqual(locateExperiments('not json at all'), []);
  assert.deepEqual(locateExperiments('{"experiments": 3}'), []);
  // Half-typed: the object so far is still found.
  const partial = locateExperiments('{"experiments": [ { "name": "typing", "models": {');
  assert.equal(partial.length, 1);
  assert.equal(partial[0].name, 'typing');
});

test('results files: default repsim-results/<name> beside the file, or the experiment output', () => {
  const file = join('/w', 'exp', 'a.repsim.json');
  assert.equal(experimentResultsFile(file, { name: 'quick' }), join('/w', 'exp', 'repsim-results', 'quick', 'results.json'));
  assert.equal(experimentOutputDirectory(file, { name: 'quick', output: '../out' }), join('/w', 'out'));
  assert.equal(experimentOutputDirectory(file, { name: 'quick', output: '/abs/out' }), '/abs/out');
  assert.equal(isExperimentFilePath('/x/Quick.RepSim.json'), true);
  assert.equal(isExperimentFilePath('/x/quick.json'), false);
});

test('issue paths split into segments', () => {
  assert.deepEqual(parseIssuePath('experiments[0].models.small.training.epochs'), ['experiments', 0, 'models', 'small', 'training', 'epochs']);
  assert.deepEqual(parseIssuePath('experiments[1].comparisons[12].a'), ['experiments', 1, 'comparisons', 12, 'a']);
  assert.deepEqual(parseIssuePath('experiments[0].models["seed-0"].seed'), ['experiments', 0, 'models', 'seed-0', 'seed']);
  assert.deepEqual(parseIssuePath('experiments[0].models["a.b[\\"c\\"]"]'), ['experiments', 0, 'models', 'a.b["c"]']);
  assert.deepEqual(parseIssuePath(''), []);
});

/** Line/character of an offset, counted independently of LineIndex (the file uses \n only). */
function positionOf(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

test('an issue with an offset underlines exactly its text', () => {
  const offset = FILE.indexOf('"resnet-20"');
  const range = issueRange(FILE, { severity: 'error', path: 'x', message: 'm', offset, length: '"resnet-20"'.length });
  assert.deepEqual(range, { start: positionOf(FILE, offset), end: positionOf(FILE, offset + 11) });
  assert.equal(range.start.line, 7);
  // Zero length still underlines one character; offsets past the end are clamped.
  assert.deepEqual(issueRange('{}', { severity: 'error', path: '', message: 'm', offset: 1, length: 0 }), { start: { line: 0, character: 1 }, end: { line: 0, character: 2 } });
  assert.deepEqual(issueRange('{}', { severity: 'error', path: '', message: 'm', offset: 50, length: 4 }), { start: { line: 0, character: 2 }, end: { line: 0, character: 2 } });
});

test('an issue without an offset is placed by its JSON path, or its nearest parent, or on the first line', () => {
  const output = FILE.indexOf('"out/second"');
  assert.deepEqual(issueRange(FILE, { severity: 'warning', path: 'experiments[1].output', message: 'm' }), { start: positionOf(FILE, output), end: positionOf(FILE, output + 12) });
  // "models.a.missing" does not exist: its parent "models.a" does.
  const model = FILE.indexOf('{ "architecture"');
  assert.deepEqual(issueRange(FILE, { severity: 'error', path: 'experiments[0].models.a.missing', message: 'm' }), {
    start: positionOf(FILE, model),
    end: positionOf(FILE, model + '{ "architecture": "resnet-20" }'.length),
  });
  assert.deepEqual(issueRange(FILE, { severity: 'error', path: '', message: 'm' }), { start: { line: 0, character: 0 }, end: { line: 0, character: 18 } });
});
