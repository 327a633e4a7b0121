/** Errors from the compute server, worded for people. */

/** A refused request's message as the server wrote it: without JSON-RPC's wrapping or the file's path again. */
export function serverErrorMessage(error: unknown, filePath?: string): string {
  let message = String((error as Error)?.message ?? error).replace(/^Request \S+ failed with message: /, '');
  if (filePath && message.startsWith(`${filePath}: `)) message = message.slice(filePath.length + 2);
  return message;
}
