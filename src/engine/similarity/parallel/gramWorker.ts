/**
 * A worker thread that computes centred grams on its own TensorFlow.js backend instance:
 * tfjs-wasm runs one thread per process in Node, so a second worker uses the second core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../backend/index.js';
import { isInputError } from '../../errors.js';
import { centeredGram } from '../centeredGrams.js';
import type { GramRequest, GramResponse, GramWorkerData, GramWorkerReady } from './messages.js';

const port = parentPort;
if (!port) throw new Error('gramWorker must run in a worker thread');

const { backend } = workerData as GramWorkerData;

initBackend(backend).then(
  (report) => {
    port.postMessage({ ready: true, backend: report.name } satisfies GramWorkerReady);
    port.on('message', (request: GramRequest) => {
      let response: GramResponse;
      try {
        const grams = request.layers.map((layer) => centeredGram(layer, request.kernel, request.centering));
        response = { id: request.id, grams };
        port.postMessage(response, grams.map((g) => g.gram.buffer as ArrayBuffer));
      } catch (error) {
        response = { id: request.id, error: String((error as Error)?.message ?? error), inputError: isInputError(error) };
        port.postMessage(response);
      }
    });
  },
  (error) => port.postMessage({ ready: false, error: String((error as Error)?.message ?? error) } satisfies GramWorkerReady),
);
