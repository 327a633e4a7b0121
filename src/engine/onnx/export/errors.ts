/** The error the exporter throws for a layer (or a model structure) it cannot express in ONNX. */

/**
 * A layer the exporter does not know, or knows but not with this configuration. The caller
 * falls back to TensorFlow.js and logs `layerName` / `className`.
 */
export class UnsupportedLayerError extends Error {
  constructor(
    /** The TF.js layer's name. */
    readonly layerName: string,
    /** Its TF.js class name (`layer.getClassName()`), e.g. 'LSTM'. */
    readonly className: string,
    /** Why, when the class is known but this use of it is not. */
    readonly reason?: string,
  ) {
    super(`cannot export layer '${layerName}' (${className}) to ONNX: ${reason ?? 'the exporter does not know this layer class'}`);
    this.name = 'UnsupportedLayerError';
  }
}
