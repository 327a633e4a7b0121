/** `repsim run FILE.repsim.json`: runs experiments through the compute server, headless. */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { InputError } from '../../engine/errors.js';
import { ComparisonDone, Done, Failed, Log, Progress, Run, Cancel, Training, type RunInfo, type RunProgress } from '../../protocol/index.js';
import { launchServer } from '../../server/launcher.js';
import { ProgressLine } from '../progress.js';
import type { CommandContext } from '../options.js';

export const RUN_USAGE = `repsim run FILE.repsim.json [options]
  Runs the experiments of an experiment file (trains or reuses models, compares them) and writes
  results.json, per-comparison JSON/CSV/PNG and a self-contained report.html.
  --experiment NAME          run only this experiment (default: all of them)
  --out DIR                  results folder (default: the experiment's "output", else
                             repsim-results/<experiment> beside the file)
  --data-dir DIR             where datasets are read from or downloaded to
  --cache-dir DIR            the cache of trained models and partial results (default:
                             .repsim beside the file)`;

export async function runExperimentFile(argv: string[], context: CommandContext): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { experiment: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' }, 'cache-dir': { type: 'string' } },
  });
  if (positionals.length !== 1) throw new InputError(`run takes one experiment file, got ${positionals.length}\n${RUN_USAGE}`);
  const filePath = resolve(positionals[0]);
  const server = await launchServer({
    backend: context.requestedBackend,
    cacheDirectory: values['cache-dir'] && resolve(values['cache-dir']),
    dataDirectory: values['data-dir'] && resolve(values['data-dir']),
    // The server's own log duplicates its Log notifications; show it only when debugging.
    onLog: (line) => (process.env.REPSIM_DEBUG ? context.log(line.replace(/^\[repsim-server\] /, 'server: ')) : undefined),
  });
  const progress = new ProgressLine();
  const pending = new Map<string, RunInfo>();
  const failures: string[] = [];
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    context.warn('cancelling (finished comparisons are kept)…');
    for (const runId of pending.keys()) void server.connection.sendRequest(Cancel, { runId });
  };
  process.once('SIGINT', onSigint);
  try {
    context.log(`backend ${server.info.backend.name}`);
    const finished = new Promise<void>((resolveAll) => {
      const settle = (runId: string) => {
        pending.delete(runId);
        if (pending.size === 0) resolveAll();
      };
      server.connection.onNotification(Progress, ({ progress: p }) => progress.update(p.step, p.total, describe(p), p.etaSeconds));
      server.connection.onNotification(Log, ({ level, message }) => {
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
        context.log(`${result.name}: ${result.layersA.length} × ${result.layersB.length} layers over ${result.examples} examples`);
      });
      server.connection.onNotification(Done, ({ runId, snapshot }) => {
        progress.finish();
        context.print(`${snapshot.experiment}: done (${snapshot.comparisons.length} comparison${snapshot.comparisons.length === 1 ? '' : 's'})`);
        settle(runId);
      });
      server.connection.onNotification(Failed, ({ runId, error, cancelled }) => {
        progress.finish();
        const name = pending.get(runId)?.experiment ?? runId;
        failures.push(cancelled ? `${name}: cancelled` : `${name}: ${error}`);
        settle(runId);
      });
    });
    const { runs } = await server.connection.sendRequest(Run, { filePath, experiment: values.experiment, outDir: values.out && resolve(values.out) }).catch((error: Error) => {
      throw new InputError(error.message);
    });
    for (const run of runs) pending.set(run.runId, run);
    await finished;
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.finish();
    await server.stop();
  }
  if (failures.length) throw new InputError(failures.join('\n'));
  if (interrupted) throw new InputError('cancelled');
}

function describe(p: RunProgress): string {
  const rate = p.rate ? ` ${p.rate.toFixed(p.rate < 10 ? 1 : 0)} ${p.rateUnit ?? ''}` : '';
  return `${p.label}${rate}`;
}
