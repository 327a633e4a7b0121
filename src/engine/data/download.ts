/**
 * Downloading one file into the cache: streamed to a temporary file beside its destination
 * while its MD5 is computed, checked against the expected length and checksum, then renamed
 * into place. A refused connection, an HTTP error, a dropped connection, a short body or a
 * wrong checksum is an InputError naming the URL, and leaves nothing behind.
 */
import { createHash } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { asWriteError, checkMd5, removeQuietly, temporaryPathBeside } from './cache.js';
import { throttledProgress } from './progress.js';
import type { LoadProgress } from './types.js';

export interface DownloadOptions {
  /** Expected hex MD5 of the whole file; checked before the file is renamed into place. */
  readonly md5?: string;
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** `name` under `baseUrl`, whether or not the base ends with a slash. */
export function joinUrl(baseUrl: string, name: string): string {
  return baseUrl.endsWith('/') ? baseUrl + name : `${baseUrl}/${name}`;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Parses a download URL. Data is fetched over HTTPS; plain HTTP is accepted only from this
 * machine (a local mirror, a test server). The MD5 check guards the content either way.
 */
export function checkDownloadUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`${url}: not a valid URL`, url);
  }
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopback(parsed.hostname))) return parsed;
  throw new InputError(`${url}: downloads must use https:// (plain http:// only from this machine)`, url);
}

/** Whether a failure is the caller's abort; a pending read may fail with the dropped socket's error instead. */
function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return (error as Error)?.name === 'AbortError' || signal?.aborted === true;
}

/** The innermost useful reason of a fetch failure ("fetch failed" hides it in `cause`). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** GET `url`, following a few redirects by hand so that each target passes `checkDownloadUrl`. */
async function fetchFollowingRedirects(url: string, signal: AbortSignal | undefined): Promise<Response> {
  let current = checkDownloadUrl(url);
  for (let redirects = 0; ; redirects++) {
    let response: Response;
    try {
      response = await fetch(current, { redirect: 'manual', signal });
    } catch (error) {
      if (isAbort(error, signal)) throw signal?.reason ?? error;
      throw new InputError(`${url}: download failed (${networkReason(error)})`, url);
    }
    if (!REDIRECT_STATUSES.has(response.status)) {
      if (response.ok) return response;
      await response.body?.cancel().catch(() => undefined);
      throw new InputError(`${url}: download failed (HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''})`, url);
    }
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (!location) throw new InputError(`${url}: download failed (HTTP ${response.status} redirect without a location)`, url);
    if (redirects >= MAX_REDIRECTS) throw new InputError(`${url}: download failed (more than ${MAX_REDIRECTS} redirects)`, url);
    current = checkDownloadUrl(new URL(location, current).href);
  }
}

/**
 * Downloads `url` to `destination` (whose directory must exist), reporting 'download' progress
 * in bytes, then checks the MD5 when one is given. Either the whole verified file is at
 * `destination` afterwards, or nothing new is.
 */
export async function downloadFile(url: string, destination: string, options: DownloadOptions = {}): Promise<void> {
  const { md5, onProgress, signal } = options;
  signal?.throwIfAborted();
  const temporary = temporaryPathBeside(destination, 'part');
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const response = await fetchFollowingRedirects(url, signal);
    const declaredLength = Number(response.headers.get('content-length') ?? NaN);
    const total = Number.isSafeInteger(declaredLength) && declaredLength >= 0 ? declaredLength : 0;
    try {
      handle = await open(temporary, 'wx');
    } catch (error) {
      await response.body?.cancel().catch(() => undefined);
      throw asWriteError(error, temporary);
    }

    const hash = createHash('md5');
    const report = throttledProgress(onProgress, 'download', url, total);
    let done = 0;
    report(done);
    const reader = response.body!.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (isAbort(error, signal)) throw signal?.reason ?? error;
        throw new InputError(`${url}: download failed after ${done}${total ? ` of ${total}` : ''} bytes (${networkReason(error)})`, url);
      }
      if (chunk.done) break;
      hash.update(chunk.value);
      await handle.write(chunk.value).catch((error: unknown) => Promise.reject(asWriteError(error, temporary)));
      done += chunk.value.length;
      report(done);
    }
    report(done, true);
    if (total && done !== total) throw new InputError(`${url}: download truncated (${done} of ${total} bytes)`, url);

    if (md5 !== undefined) {
      onProgress?.({ phase: 'verify', file: url, done, total: done });
      checkMd5(url, hash.digest('hex'), md5);
    }
    await handle.sync(); // on disk before the rename makes it visible
    await handle.close();
    handle = undefined;
    await rename(temporary, destination);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await removeQuietly(temporary);
    throw asWriteError(error, destination);
  }
}
