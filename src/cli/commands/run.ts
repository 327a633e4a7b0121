/** `repsim run FILE.repsim.json`: runs experiments through the compute server, headless. */
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { computeBackendName } from '../../engine/backend/index.js';
import { DEFAULT_DATA_DIRECTORY_TEXT } from '../../engine/data/defaultDirectory.js';
import { InputError } from '../../engine/errors.js';
import { ComparisonDone, Done, Failed, Log, Progress, Run, Cancel, Training, type RunInfo, type RunProgress, type RunSnapshot } from '../../protocol/index.js';
import { launchServer } from '../../server/launcher.js';
import { significanceSummary } from '../../protocol/findings.js';
import { ProgressLine } from '../progress.js';
import { parseNumberOption, UsageError, type CommandContext } from '../options.js';

export const RUN_USAGE = `repsim run FILE.repsim.json [options]
  Runs the experiments of an experiment file (trains or reuses models, compares them) and writes
  results.json, per-comparison JSON/CSV/PNG and a self-contained report.html; ends with what
  the run found (e.g. how many layers of one model are most similar to their counterpart in
  the other), or, if it failed, what failed and what was kept.
  --experiment NAME          run only this experiment (default: all of them)
  --out DIR                  results folder (default: the experiment's "output", else
                             repsim-results/<experiment> beside the file)
  --data-dir DIR             where datasets are read from and downloaded to, unless the
                             experiment names its own "dataDir" (default: ${DEFAULT_DATA_DIRECTORY_TEXT});
                             for CIFAR-10 a folder holding cifar-10-binary.tar.gz (checked
                             against its MD5, extracted once) or the extracted
                             cifar-10-batches-bin/, or the .tar.gz itself
  --cache-dir DIR            the cache of trained models and partial results (default:
                             .repsim beside the file)
  --permutations P           permutations per cell for every comparison's significance test,
                             in place of the file's "permutations" (default 100; 0: off)`;

export async function runExperimentFile(argv: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { experiment: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' }, 'cache-dir': { type: 'string' }, permutations: { type: 'string' } },
  });
  const permutations = values.permutations === undefined ? undefined : parseNumberOption('--permutations', values.permutations, { integer: true, min: 0 });
  if (positionals.length !== 1) throw new UsageError(`run takes one experiment file, got ${positionals.length}`, undefined, 'run');
  const given = positionals[0];
  const filePath = resolve(given);
  // Before the server starts, in the words the user typed.
  const found = await stat(filePath).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`${given}: ${error.code === 'ENOENT' ? 'no such file' : `cannot read (${error.code ?? error.message})`}`, given);
  });
  if (found.isDirectory()) throw new InputError(`${given}: is a folder, expected an experiment file (*.repsim.json)`, given);
  const cacheDirectory = values['cache-dir'] ? resolve(values['cache-dir']) : undefined;
  const server = await launchServer({
    backend: context.requestedBackend,
    cacheDirectory,
    dataDirectory: values['data-dir'] && resolve(values['data-dir']),
    // The server's own log duplicates its Log notifications; show it only when debugging.
    onLog: (line) => (process.env.REPSIM_DEBUG ? context.log(line.replace(/^\[repsim-server\] /, 'server: ')) : undefined),
  });
  const progress = new ProgressLine();
  const pending = new Map<string, RunInfo>();
  const failures: string[] = [];
  const shown = (path: string) => displayPath(path);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    context.warn('cancelling (finished comparisons are kept)…');
    // The server may be gone already (it crashed, or the Ctrl-C reached it too): nothing to cancel then.
    for (const runId of pending.keys()) server.connection.sendRequest(Cancel, { runId }).catch(() => undefined);
  };
  process.once('SIGINT', onSigint);
  try {
    context.log(`compute: ${computeBackendName(server.info.backend)}; training: TensorFlow.js ${server.info.backend.name}`);
    const finished = new Promise<void>((resolveAll) => {
      const settle = (runId: string) => {
        pending.delete(runId);
        if (pending.size === 0) resolveAll();
      };
      server.connection.onNotification(Progress, ({ progress: p }) => progress.update(p.step, p.total, describe(p), p.etaSeconds));
      server.connection.onNotification(Log, ({ level, message }) => {
        // Where the results are is said once, at the end.
        if (level === 'info' && message.startsWith('results in ')) return;
        progress.clear();
        if (level === 'info') context.log(message);
        else context.warn(message);
      });
      server.connection.onNotification(Training, ({ metrics }) => {
        if (metrics.batch === undefined) {
          progress.clear();
          context.log(`${metrics.model}: epoch ${metrics.epoch} loss ${metrics.loss.toFixed(4)} accuracy ${(metrics.accuracy * 100).toFixed(1)}%${metrics.testAccuracy === undefined ? '' : `, test accuracy ${(metrics.testAccuracy * 100).toFixed(1)}%`}`);
        }
      });
      server.connection.onNotification(ComparisonDone, ({ result }) => {
        progress.clear();
        context.log(`${result.name}: ${result.layersA.length} × ${result.layersB.length} layers over ${result.examples} examples${result.significance ? `; ${significanceSummary(result.significance)}` : ''}`);
      });
      server.connection.onNotification(Done, ({ runId, snapshot }) => {
        progress.finish();
        const count = `${snapshot.comparisons.length} comparison${snapshot.comparisons.length === 1 ? '' : 's'}`;
        context.print(`${snapshot.experiment}: done (${count})${snapshot.output ? `; results in ${shown(snapshot.output)}` : ''}`);
        if (snapshot.finding) context.print(`finding: ${snapshot.finding}`);
        settle(runId);
      });
      server.connection.onNotification(Failed, ({ runId, error, cancelled, snapshot }) => {
        progress.finish();
        const name = pending.get(runId)?.experiment ?? runId;
        failures.push(failureLine(name, error, cancelled, snapshot, cacheDirectory ?? join(dirname(filePath), '.repsim')));
        settle(runId);
      });
    });
    const { runs } = await server.connection.sendRequest(Run, { filePath, experiment: values.experiment, outDir: values.out && resolve(values.out), permutations }).catch((error: Error) => {
      // The server names the file by its absolute path: name it as typed.
      throw new InputError(error.message.split(filePath).join(given), given);
    });
    for (const run of runs) pending.set(run.runId, run);
    await finished;
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.finish();
    await server.stop();
  }
  if (failures.length) throw new InputError(failures.join('\nrepsim: '));
  if (interrupted) throw new InputError('cancelled');
}

/** A path relative to the working folder when it is inside it, else absolute. */
function displayPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

/** One line: what failed (or that it was cancelled), and what the run kept. */
export function failureLine(experiment: string, error: string, cancelled: boolean, snapshot: RunSnapshot | null, cacheDirectory: string): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const kept: string[] = [];
  const comparisons = snapshot?.comparisons ?? [];
  if (comparisons.length) {
    kept.push(`${plural(comparisons.length, 'finished comparison')} (${comparisons.map((c) => c.name).join(', ')})${snapshot?.output ? ` in ${displayPath(snapshot.output)}` : ''}`);
  }
  const trained = (snapshot?.models ?? []).filter((m) => m.source === 'trained').map((m) => m.id);
  if (trained.length) kept.push(`the trained ${trained.length === 1 ? 'model' : 'models'} ${trained.join(', ')} in ${displayPath(cacheDirectory)}`);
  const what = cancelled ? `${experiment}: cancelled` : `${experiment} failed: ${error.replace(/\s*\n\s*/g, ' ')}`;
  return `${what}; kept ${kept.length ? kept.join(' and ') : 'nothing'}${cancelled ? ' (a rerun resumes where it stopped)' : ''}`;
}

function describe(p: RunProgress): string {
  const rate = p.rate ? ` ${p.rate.toFixed(p.rate < 10 ? 1 : 0)} ${p.rateUnit ?? ''}` : '';
  return `${p.label}${rate}`;
}
