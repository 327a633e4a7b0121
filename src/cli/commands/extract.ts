/** `repsim extract MODEL --inputs X --layers SEL --out acts.npz`: a model's activations, one array per layer. */
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../../engine/io/files.js';
import { encodeNpz } from '../../engine/io/npz.js';
import { InputError } from '../../engine/errors.js';
import { modelActivations, modelKind, readInputsArray } from '../models.js';
import { parseNumberOption, UsageError, type CommandContext } from '../options.js';

export const EXTRACT_USAGE = `repsim extract MODEL --inputs X.npy --out ACTS.npz [options]
  Runs an .onnx model or a TensorFlow.js model.json on the inputs and writes the selected
  layers' activations, one float32 array per layer in forward order (examples on the first
  axis; an ONNX model's own layout, e.g. NCHW), named by the layer names of repsim layers.
  --inputs X.npy|X.npz       the examples, fed as they are (required)
  --layers SEL               blocks (default), all, op:Relu,Add (ONNX), a glob or a /regex/
  --out ACTS.npz             where to write them (required; written only when all are done)
  --batch-size N             examples per forward pass (default 256)`;

export async function runExtract(argv: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      inputs: { type: 'string' },
      layers: { type: 'string', default: 'blocks' },
      out: { type: 'string' },
      'batch-size': { type: 'string', default: '256' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`extract takes one model, got ${positionals.length}`, undefined, 'extract');
  if (values.inputs === undefined) throw new UsageError('extract needs --inputs X.npy (the examples fed to the model)', 'inputs', 'extract');
  if (values.out === undefined) throw new UsageError('extract needs --out ACTS.npz', 'out', 'extract');
  const batchSize = parseNumberOption('--batch-size', values['batch-size']!, { integer: true, min: 1 });
  const [path] = positionals;
  if ((await modelKind(path)) === 'activations') throw new UsageError(`${path}: extract takes a model (.onnx or model.json), not activations`, path, 'extract');
  const backend = await context.backend();
  const inputs = await readInputsArray(values.inputs);
  const layers = await modelActivations(path, inputs, values.inputs, { selection: values.layers!, batchSize, backend });
  const bytes = encodeNpz(layers.map((l) => ({ name: l.name, array: { shape: l.shape, data: l.data } })));
  await writeFileAtomic(values.out, bytes).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`${values.out}: cannot write (${error.code ?? error.message})`, values.out);
  });
  context.log(`${layers.length} layer${layers.length === 1 ? '' : 's'} of ${path} on ${inputs.shape[0]} examples written to ${values.out}`);
  for (const l of layers) context.print(`${l.name}  [${l.shape.join(', ')}]`);
}
