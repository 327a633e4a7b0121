import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperimentText } from '../../src/server/experiments/parse.js';

const valid = `// a comment is fine: experiment files are JSON with comments
{
  "version": 1,
  "experiments": [
    {
      "name": "quickstart",
      "data": { "dataset": "fashion-mnist-subset" },
      "models": {
        "small-seed0": { "architecture": "resnet-8", "seed": 0, "training": { "epochs": 1, "schedule": "cosine" } },
        "saved": { "path": "./models/m" },
        "acts": { "activations": "./a.npz" },
      },
      "comparisons": [
        { "a": "small-seed0", "b": "saved", "layers": { "pattern": "out$" }, "subspaceMatch": { "epsilons": [0.2, 0.5], "pairs": [["x", "y"]] } }
      ]
    }
  ]
}`;

function messages(text: string): string[] {
  return parseExperimentText(text).issues.map((i) => i.message);
}

function experiment(body: string): string {
  return `{ "experiments": [ { "name": "e", ${body} } ] }`;
}

test('a valid file with comments and trailing commas parses', () => {
  const { file, issues } = parseExperimentText(valid);
  assert.deepEqual(issues, []);
  assert.equal(file!.experiments[0].name, 'quickstart');
  assert.deepEqual(Object.keys(file!.experiments[0].models), ['small-seed0', 'saved', 'acts']);
});

test('every error names its JSON path and what is expected', () => {
  assert.deepEqual(messages(experiment(`"models": { "m": { "seed": 1 } }, "comparisons": [ { "a": "m", "b": "m" } ]`)), [
    "experiments[0].models.m: expected an object with 'architecture', 'path', 'onnx' or 'activations'",
  ]);
  assert.deepEqual(messages(experiment(`"models": { "m": { "architecture": "resnet-20", "seed": -1, "trainin": {} } }, "comparisons": [ { "a": "m", "b": "m", "kernel": "cos" } ]`)), [
    'experiments[0].models.m.seed: expected a number ≥ 0',
    "experiments[0].models.m.trainin: unknown property 'trainin'; expected 'architecture', 'seed', 'training'",
    'experiments[0].comparisons[0].kernel: expected one of "linear", "rbf"',
  ]);
  assert.deepEqual(messages(experiment(`"models": { "m": { "architecture": "vgg-16" } }, "comparisons": [ { "a": "m", "b": "m", "passes": 0, "subspaceMatch": { "epsilons": [1.5] } } ]`)), [
    'experiments[0].models.m.architecture: expected an architecture like resnet-20, resnet-56-w4, resnet-50 or plain-cnn-10',
    'experiments[0].comparisons[0].passes: expected a number ≥ 1',
    'experiments[0].comparisons[0].subspaceMatch.epsilons[0]: expected a number < 1',
  ]);
  assert.deepEqual(messages(`{ "experiments": [ { "models": {}, "comparisons": [] } ] }`), [
    "experiments[0]: missing required property 'name'",
    'experiments[0].models: expected at least 1 entry',
    'experiments[0].comparisons: expected at least 1 item',
  ]);
  assert.deepEqual(messages(`{ "experiment": [] }`), ["file: missing required property 'experiments'", "experiment: unknown property 'experiment'; expected 'version', 'experiments'"]);
});

test('issues carry the offset of the offending text', () => {
  const text = experiment(`"models": { "m": { "architecture": "resnet-20", "seed": "zero" } }, "comparisons": [ { "a": "m", "b": "m" } ]`);
  const [issue] = parseExperimentText(text).issues;
  assert.equal(text.slice(issue.offset!, issue.offset! + issue.length!), '"zero"');
});

test('syntax errors give line and column', () => {
  const [issue] = parseExperimentText('{\n  "experiments": [\n    { "name": "x" oops }\n  ]\n}').issues;
  assert.match(issue.message, /^line 3, column \d+: invalid JSON/);
  assert.deepEqual(messages('// nothing yet\n'), ['the file is empty: expected an object with "experiments"']);
});
