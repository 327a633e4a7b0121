/**
 * The smallest useful ONNX model, for checking that onnxruntime-node loads and runs where the
 * extension is installed: y = x + x over float32[3]. Built with onnx-proto (ONNX's schema).
 */
import { onnx } from 'onnx-proto';

export const TINY_MODEL_INPUT = [1, 2, 3];
export const TINY_MODEL_OUTPUT = [2, 4, 6];

export function tinyOnnxModel(): Uint8Array {
  const tensor = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 3 }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'repsim-e2e',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'double', node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }], input: [tensor('x')], output: [tensor('y')] },
  });
  return onnx.ModelProto.encode(model).finish();
}
