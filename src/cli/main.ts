/**
 * The `repsim` command line. Input errors print one line naming the input and exit 1;
 * usage errors exit 2; nothing is written unless the whole computation finished.
 */
import { formatBackendReport, initBackend, isBackendName, BACKEND_NAMES, type RequestedBackend } from '../engine/backend/index.js';
import { isInputError } from '../engine/errors.js';
import { CKA_USAGE, runCka } from './commands/cka.js';
import { MATCH_USAGE, runMatch } from './commands/match.js';
import { RUN_USAGE, runExperimentFile } from './commands/run.js';
import type { CommandContext } from './options.js';

const VERSION = '0.1.0';

const USAGE = `repsim ${VERSION} — do these two networks learn the same things?

Usage: repsim <command> [options]

Commands:
${RUN_USAGE.replace(/^/gm, '  ')}

${CKA_USAGE.replace(/^/gm, '  ')}

${MATCH_USAGE.replace(/^/gm, '  ')}

  repsim backend
    Print what computes here (ONNX Runtime's execution provider, or TensorFlow.js and why)
    and what trains (the TensorFlow.js backend), and why faster ones were skipped.

Global options:
  --backend auto|${BACKEND_NAMES.join('|')}   force a backend: onnx-* for an ONNX Runtime provider, or a TensorFlow.js backend for everything (env REPSIM_BACKEND)
  --quiet                    no diagnostics on stderr (warnings still show)
  --help, --version`;

const COMMANDS: Record<string, (argv: string[], context: CommandContext) => Promise<void>> = {
  run: runExperimentFile,
  cka: runCka,
  match: runMatch,
  backend: async (_argv, context) => context.print(formatBackendReport(await context.backend())),
};

class UsageError extends Error {}

interface GlobalOptions {
  backend: RequestedBackend;
  quiet: boolean;
  rest: string[];
}

function takeGlobalOptions(argv: readonly string[]): GlobalOptions {
  const rest: string[] = [];
  let backend = process.env.REPSIM_BACKEND || 'auto';
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quiet' || arg === '-q') quiet = true;
    else if (arg === '--backend') backend = argv[++i] ?? '';
    else if (arg.startsWith('--backend=')) backend = arg.slice('--backend='.length);
    else rest.push(arg);
  }
  if (backend !== 'auto' && !isBackendName(backend)) throw new UsageError(`--backend ${backend}: expected one of auto, ${BACKEND_NAMES.join(', ')}`);
  return { backend, quiet, rest };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { backend, quiet, rest } = takeGlobalOptions(argv);
    const [command, ...args] = rest;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command '${command}' (expected ${Object.keys(COMMANDS).join(', ')}); see repsim --help`);
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const context: CommandContext = {
      backend: () => initBackend(backend),
      requestedBackend: backend,
      print: (text) => process.stdout.write(`${text}\n`),
      log: (text) => (quiet ? undefined : process.stderr.write(`repsim: ${text}\n`)),
      warn: (text) => process.stderr.write(`repsim: warning: ${text}\n`),
    };
    await run(args, context);
    return 0;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  const err = error as Error & { code?: string };
  if (isInputError(error)) {
    process.stderr.write(`repsim: ${err.message}\n`);
    return 1;
  }
  if (error instanceof UsageError || err?.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`repsim: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(`repsim: internal error: ${err?.message ?? error}\n`);
  if (process.env.REPSIM_DEBUG) process.stderr.write(`${err?.stack}\n`);
  else process.stderr.write('repsim: set REPSIM_DEBUG=1 for the stack trace, and please report it\n');
  return 70;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
