/** The commented experiment file "RepSim: New Experiment File" writes (valid against the schema). */

export function experimentTemplate(name: string): string {
  const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? name : 'my-experiment';
  return `// A RepSim experiment file (JSON with comments). Hover a property for its description; press
// Ctrl+Space for the alternatives. Run an experiment with the ▶ Run lens above it, or with
// "RepSim: Run Experiment". Relative paths resolve against this file.
{
  "version": 1,
  "experiments": [
    {
      "name": "${safeName}",
      "description": "Do two ResNet-20s that differ only in their random seed learn the same layers?",
      // fashion-mnist-subset ships with RepSim (works offline); fashion-mnist and cifar10 download.
      "data": { "dataset": "fashion-mnist-subset" },
      // Models by id: an architecture to train ("architecture"), a saved TensorFlow.js model
      // ("path": its model.json), an ONNX model ("onnx"), or precomputed activations
      // ("activations": an .npz file).
      // Your PyTorch model: export it with a dynamic batch axis,
      //   torch.onnx.export(model, torch.zeros(1, 1, 28, 28), "mine.onnx", input_names=["input"],
      //                     dynamic_axes={"input": {0: "batch"}}, opset_version=17)
      // then add  "mine": { "onnx": "./mine.onnx", "layout": "NCHW", "normalize": "dataset" }
      // ("normalize": "scale" for pixels in [0, 1], or { "mean": [...], "std": [...] }), or feed
      // your own preprocessed examples: "data": { "inputs": "./x.npy", "labels": "./y.npy" }.
      "models": {
        "seed0": { "architecture": "resnet-20", "seed": 0, "training": { "epochs": 3, "batchSize": 64 } },
        "seed1": { "architecture": "resnet-20", "seed": 1, "training": { "epochs": 3, "batchSize": 64 } }
      },
      // Each comparison draws a heatmap of CKA between every pair of layers of a and b.
      "comparisons": [
        {
          "a": "seed0",
          "b": "seed1",
          "layers": "blocks",      // "all", "blocks", or { "pattern": "stage2/*/out" }
          "kernel": "linear",      // or "rbf"
          "batchSize": 256,
          "passes": 1,
          "permutations": 100      // p-value and calibrated CKA per cell (0: off)
          // "subspaceMatch": { "epsilons": [0.3, 0.5] }
        }
      ]
    }
  ]
}
`;
}
