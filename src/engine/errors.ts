/**
 * An error caused by what the user gave us (a file, a layer, a setting), not by a bug.
 * Its message is one line that names the input; front ends print it without a stack trace.
 */
export class InputError extends Error {
  constructor(
    message: string,
    /** The file, layer or option at fault, when there is one. */
    readonly input?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

export function isInputError(error: unknown): error is InputError {
  return error instanceof InputError;
}
