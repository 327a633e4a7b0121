/**
 * The compute server writes each run message twice: a line on stderr (its own log, written at
 * once) and a Log notification (with a level; it can arrive many seconds later, as the server
 * flushes its protocol output only between batches of work). The output channel shows each
 * message once, at the notification's level: a stderr line about a run is held until its
 * notification arrives; what no notification repeats (a stack trace) is written when the run
 * ends or the server stops.
 */
export type LogLevel = 'info' | 'warning' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

const SERVER_PREFIX = /^\[repsim-server\] /;
/** Run ids are `run-<time>-<counter>` in base 36 (RunQueue). */
const RUN_MESSAGE = /^(run-[0-9a-z]+-[0-9a-z]+): /;
const REMEMBERED = 500;

interface HeldLine {
  readonly text: string;
  /** Indented lines that followed it (a stack trace). */
  readonly continuation: string[];
}

export class ServerLogMerger {
  private readonly held = new Map<string, HeldLine[]>();
  private lastHeld: HeldLine | undefined;
  /** Notifications whose stderr copy has not been seen yet (it is dropped when it comes). */
  private readonly notified = new Set<string>();

  constructor(private readonly sink: LogSink) {}

  stderrLine(line: string): void {
    const text = line.replace(SERVER_PREFIX, '');
    const run = RUN_MESSAGE.exec(text)?.[1];
    if (!run) {
      if (this.lastHeld && /^\s/.test(text)) this.lastHeld.continuation.push(text);
      else {
        this.lastHeld = undefined;
        this.sink('info', text);
      }
      return;
    }
    if (this.notified.delete(text)) {
      this.lastHeld = undefined;
      return;
    }
    const entry: HeldLine = { text, continuation: [] };
    const list = this.held.get(run) ?? [];
    list.push(entry);
    this.held.set(run, list);
    this.lastHeld = entry;
  }

  notification(level: LogLevel, message: string, runId?: string): void {
    const text = runId ? `${runId}: ${message}` : message;
    const list = runId ? this.held.get(runId) : undefined;
    const index = list?.findIndex((entry) => entry.text === text) ?? -1;
    if (list && index >= 0) {
      const [entry] = list.splice(index, 1);
      if (entry === this.lastHeld) this.lastHeld = undefined;
      this.sink(level, text);
      for (const line of entry.continuation) this.sink(level, line);
      return;
    }
    if (runId) {
      this.notified.add(text);
      if (this.notified.size > REMEMBERED) this.notified.delete(this.notified.values().next().value!);
    }
    this.sink(level, text);
  }

  /** Writes what the run logged on stderr only (its notifications have all arrived by now). */
  runEnded(runId: string): void {
    const list = this.held.get(runId);
    this.held.delete(runId);
    for (const entry of list ?? []) this.write(entry);
  }

  /** Writes everything held (the server stopped). */
  flush(): void {
    for (const runId of [...this.held.keys()]) this.runEnded(runId);
  }

  private write(entry: HeldLine): void {
    if (entry === this.lastHeld) this.lastHeld = undefined;
    this.sink('info', entry.text);
    for (const line of entry.continuation) this.sink('info', line);
  }
}
