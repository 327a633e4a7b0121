/** The compute server's backend report in words, for the status bar and the log. */
import type { BackendReport } from '../../protocol/index.js';

/** What computes, in a word: the ONNX Runtime provider ('onnx-cpu'), or the TensorFlow.js backend. */
export function computeBackendLabel(report: BackendReport): string {
  return report.onnx ? `onnx-${report.onnx.provider}` : report.name;
}

/** What computes and what trains, for tooltips and the log. */
export function computeBackendDescription(report: BackendReport): string {
  const compute = report.onnx
    ? `Computes on ONNX Runtime ${report.onnx.version}: ${report.onnx.provider} (${report.onnx.description}, ${report.onnx.threads} threads)`
    : `Computes on TensorFlow.js ${report.name} (${report.description}); ONNX Runtime not used: ${report.onnxUnavailable ?? 'unknown'}`;
  return `${compute}\nTrains on TensorFlow.js ${report.name} (${report.description})`;
}
