/**
 * Where datasets are read from and downloaded to when neither the experiment (`data.dataDir`),
 * the CLI (`--data-dir`) nor the extension (`repsim.dataDirectory`) names a folder: one default
 * for all of them. Node built-ins only, so that the extension can import it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The default as the documentation writes it. */
export const DEFAULT_DATA_DIRECTORY_TEXT = '~/.cache/repsim/data';

export function defaultDataDirectory(home: string = homedir()): string {
  return join(home, '.cache', 'repsim', 'data');
}
