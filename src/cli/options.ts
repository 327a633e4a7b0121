/** Shared option parsing for CLI commands: every error names the option. */
import type { BackendReport, RequestedBackend } from '../engine/backend/index.js';
import { InputError } from '../engine/errors.js';

export interface CommandContext {
  /** Starts (once) the backend asked for in this process. */
  backend(): Promise<BackendReport>;
  /** The backend asked for (--backend / REPSIM_BACKEND), for commands that start a server. */
  readonly requestedBackend: RequestedBackend;
  /** Results for the user (stdout). */
  print(text: string): void;
  /** Diagnostics (stderr), shown unless --quiet. */
  log(text: string): void;
  /** Warnings (stderr), always shown. */
  warn(text: string): void;
}

/**
 * A command line that cannot be run as written (unknown command or option, wrong number of
 * arguments, an option value out of range): exit status 2, where failed work exits 1.
 */
export class UsageError extends InputError {
  constructor(
    message: string,
    input?: string,
    /** The command whose help to point at. */
    readonly command?: string,
  ) {
    super(message, input);
    this.name = 'UsageError';
  }
}

export function parseChoice<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${option} ${value}: expected one of ${choices.join(', ')}`, option);
}

export function parseNumberOption(option: string, text: string, rules: { integer?: boolean; min?: number; max?: number; positive?: boolean } = {}): number {
  const value = Number(text);
  const fail = (expected: string): never => {
    throw new UsageError(`${option} ${text}: expected ${expected}`, option);
  };
  if (text.trim() === '' || !Number.isFinite(value)) fail('a number');
  if (rules.integer && !Number.isInteger(value)) fail('a whole number');
  if (rules.positive && !(value > 0)) fail('a number greater than 0');
  if (rules.min !== undefined && value < rules.min) fail(`a number ≥ ${rules.min}`);
  if (rules.max !== undefined && value > rules.max) fail(`a number ≤ ${rules.max}`);
  return value;
}
