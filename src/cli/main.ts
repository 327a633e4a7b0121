/**
 * The `repsim` command line. Failed work (a missing or invalid file, a failed run) prints one
 * line naming the input and exits 1; usage errors (unknown command or option, wrong arguments,
 * an option value out of range) exit 2; nothing is written unless the whole computation
 * finished. `repsim help COMMAND` and `repsim COMMAND --help` print that command's options.
 */
import { formatBackendReport, initBackend, isBackendName, BACKEND_NAMES, type RequestedBackend } from '../engine/backend/index.js';
import { isInputError } from '../engine/errors.js';
import { CKA_USAGE, runCka } from './commands/cka.js';
import { EXTRACT_USAGE, runExtract } from './commands/extract.js';
import { LAYERS_USAGE, runLayers } from './commands/layers.js';
import { MATCH_USAGE, runMatch } from './commands/match.js';
import { RUN_USAGE, runExperimentFile } from './commands/run.js';
import { UsageError, type CommandContext } from './options.js';

const VERSION = '0.1.0';

const BACKEND_USAGE = `repsim backend
  Prints what computes here (ONNX Runtime's execution provider, or TensorFlow.js and why)
  and what trains (the TensorFlow.js backend), and why faster ones were skipped.`;

const GLOBAL_OPTIONS = `Global options:
  --backend NAME             auto (the default; env REPSIM_BACKEND), or one to force:
                               ONNX Runtime: ${BACKEND_NAMES.filter((n) => n.startsWith('onnx-')).join(', ')}
                               TensorFlow.js for everything: ${BACKEND_NAMES.filter((n) => !n.startsWith('onnx-')).join(', ')}
  --quiet                    no diagnostics on stderr (warnings still show)
  --help, --version`;

const USAGE = `repsim ${VERSION} — do these two networks learn the same things?

Usage: repsim <command> [options]

Commands:
${RUN_USAGE.replace(/^/gm, '  ')}

${CKA_USAGE.replace(/^/gm, '  ')}

${MATCH_USAGE.replace(/^/gm, '  ')}

${EXTRACT_USAGE.replace(/^/gm, '  ')}

${LAYERS_USAGE.replace(/^/gm, '  ')}

${BACKEND_USAGE.replace(/^/gm, '  ')}

${GLOBAL_OPTIONS}

repsim help COMMAND, or repsim COMMAND --help, prints one command's options.
Exit status: 0 done, 1 failed (a missing or invalid input, a failed run), 2 usage error.`;

interface Command {
  readonly usage: string;
  readonly run: (argv: string[], context: CommandContext) => Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  run: { usage: RUN_USAGE, run: runExperimentFile },
  cka: { usage: CKA_USAGE, run: runCka },
  match: { usage: MATCH_USAGE, run: runMatch },
  extract: { usage: EXTRACT_USAGE, run: runExtract },
  layers: { usage: LAYERS_USAGE, run: runLayers },
  backend: {
    usage: BACKEND_USAGE,
    run: async (argv, context) => {
      if (argv.length) throw new UsageError(`backend takes no arguments, got ${argv.join(' ')}`, undefined, 'backend');
      context.print(formatBackendReport(await context.backend()));
    },
  },
};

function commandHelp(name: string): string {
  return `${COMMANDS[name].usage}

${GLOBAL_OPTIONS}`;
}

function unknownCommand(name: string): UsageError {
  return new UsageError(`unknown command '${name}' (expected ${Object.keys(COMMANDS).join(', ')}); see repsim --help`, name);
}

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
  let command: string | undefined;
  try {
    const { backend, quiet, rest } = takeGlobalOptions(argv);
    const [first, ...args] = rest;
    if (first === undefined) {
      // No command: the help, as a usage error.
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      const [topic, ...extra] = args.filter((a) => a !== '--help' && a !== '-h');
      if (topic !== undefined && !COMMANDS[topic]) throw unknownCommand(topic);
      if (extra.length) throw new UsageError(`help takes one command, got ${args.join(' ')}`);
      process.stdout.write(`${topic === undefined ? USAGE : commandHelp(topic)}\n`);
      return 0;
    }
    if (first === '--version' || first === '-V') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (!COMMANDS[first]) throw unknownCommand(first);
    command = first;
    // Options after `--` are arguments, not a request for help.
    const options = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
    if (options.includes('--help') || options.includes('-h')) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    const context: CommandContext = {
      backend: () => initBackend(backend),
      requestedBackend: backend,
      print: (text) => process.stdout.write(`${text}\n`),
      log: (text) => (quiet ? undefined : process.stderr.write(`repsim: ${text}\n`)),
      warn: (text) => process.stderr.write(`repsim: warning: ${text}\n`),
    };
    await COMMANDS[command].run(args, context);
    return 0;
  } catch (error) {
    return reportError(error, command);
  }
}

function reportError(error: unknown, command: string | undefined): number {
  const err = error as Error & { code?: string };
  if (error instanceof UsageError || err?.code?.startsWith('ERR_PARSE_ARGS')) {
    const about = (error instanceof UsageError ? error.command : undefined) ?? command;
    // node's parseArgs words it for developers: "Unknown option '--x'. To specify a positional argument starting with a '-', …".
    const message = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? err.message.replace(/\. To specify a positional.*$/s, '') : err.message;
    process.stderr.write(`repsim: ${message.replace(/^Unknown option/, 'unknown option')}${about ? ` (see repsim help ${about})` : ''}\n`);
    return 2;
  }
  if (isInputError(error)) {
    process.stderr.write(`repsim: ${err.message}\n`);
    return 1;
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
