/**
 * The compute server's life as the extension sees it: started on first use, restarted with
 * back-off after a crash, restarted on request (settings changed), stopped on deactivate.
 * Notification handlers are kept here and attached to each new connection. Free of `vscode`,
 * so it is tested with a fake launcher.
 */
import type { MessageConnection, NotificationType } from 'vscode-jsonrpc';
import type { InitializeResult } from '../../protocol/index.js';
import type { LaunchedServer, LaunchOptions } from '../../server/launcher.js';
import { Emitter } from '../util/emitter.js';
import { CrashBackoff, type CrashDecision } from './crashBackoff.js';

export type ServerLaunchSettings = Omit<LaunchOptions, 'onLog'>;
export type Launch = (options: LaunchOptions) => Promise<LaunchedServer>;

export type ServerState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'running'; readonly info: InitializeResult }
  | { readonly kind: 'restarting'; readonly delayMs: number }
  | { readonly kind: 'gave-up' };

export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CrashReport {
  readonly exit: ServerExit | undefined;
  /** Why, when the server could not even start again. */
  readonly error?: string;
  readonly decision: CrashDecision;
}

export interface ServerClientOptions {
  readonly launch: Launch;
  /** Read at each start, so a restart picks up changed settings. */
  readonly settings: () => ServerLaunchSettings;
  readonly onStderr: (line: string) => void;
  readonly backoff?: CrashBackoff;
  readonly now?: () => number;
}

export class ServerUnavailableError extends Error {
  constructor() {
    super('the RepSim compute server crashed repeatedly and was not restarted; run a RepSim command to start it again');
    this.name = 'ServerUnavailableError';
  }
}

export function describeExit(exit: ServerExit | undefined): string {
  if (!exit) return 'it did not start';
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

export class ComputeServerClient {
  private server: LaunchedServer | undefined;
  private starting: Promise<LaunchedServer> | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every start and stop, so a superseded start or exit is recognised as such. */
  private generation = 0;
  private disposed = false;
  private currentState: ServerState = { kind: 'stopped' };
  private readonly attachments: ((connection: MessageConnection) => void)[] = [];
  private readonly backoff: CrashBackoff;

  private readonly stateEmitter = new Emitter<ServerState>();
  private readonly crashEmitter = new Emitter<CrashReport>();
  private readonly lostEmitter = new Emitter<string>();
  /** Every change of state. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** A crash, with what happens next (restart after a delay, or give up). */
  readonly onDidCrash = this.crashEmitter.event;
  /** The running server went away (crash, stop, restart): its runs are gone. Carries why. */
  readonly onDidLoseServer = this.lostEmitter.event;

  constructor(private readonly options: ServerClientOptions) {
    this.backoff = options.backoff ?? new CrashBackoff();
  }

  get state(): ServerState {
    return this.currentState;
  }

  get info(): InitializeResult | undefined {
    return this.currentState.kind === 'running' ? this.currentState.info : undefined;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.server?.process.pid;
  }

  /** The connection when the server is up, without starting it. */
  get runningConnection(): MessageConnection | undefined {
    return this.server?.connection;
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): void {
    const attach = (connection: MessageConnection) => connection.onNotification(type, handler);
    this.attachments.push(attach);
    if (this.server) attach(this.server.connection);
  }

  /**
   * The connection, starting the server if needed. Background work (validation) passes
   * `userInitiated: false`: it does not revive a server that was given up on.
   */
  async connection(options: { readonly userInitiated: boolean } = { userInitiated: true }): Promise<MessageConnection> {
    if (this.disposed) throw new Error('RepSim is shutting down');
    if (this.server) return this.server.connection;
    if (this.currentState.kind === 'gave-up') {
      if (!options.userInitiated) throw new ServerUnavailableError();
      this.backoff.reset();
    }
    return (await this.start()).connection;
  }

  /** Stops a running (or starting) server and starts a new one; nothing when none runs. */
  async restart(): Promise<void> {
    if (!this.server && !this.starting && this.currentState.kind !== 'restarting') return;
    await this.stop('the compute server was restarted');
    await this.start();
  }

  async stop(reason = 'the compute server was stopped'): Promise<void> {
    this.generation++;
    this.clearRestartTimer();
    const server = this.server;
    this.server = undefined;
    if (server) {
      this.lostEmitter.fire(reason);
      await server.stop().catch(() => undefined);
    }
    if (this.currentState.kind !== 'gave-up' || server) this.setState({ kind: 'stopped' });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
    this.stateEmitter.dispose();
    this.crashEmitter.dispose();
    this.lostEmitter.dispose();
  }

  private start(): Promise<LaunchedServer> {
    if (this.starting) return this.starting;
    this.clearRestartTimer();
    const generation = ++this.generation;
    this.setState({ kind: 'starting' });
    const starting = this.launch(generation);
    this.starting = starting;
    const clear = () => {
      if (this.starting === starting) this.starting = undefined;
    };
    starting.then(clear, clear);
    return starting;
  }

  private async launch(generation: number): Promise<LaunchedServer> {
    let server: LaunchedServer;
    try {
      server = await this.options.launch({ ...this.options.settings(), onLog: this.options.onStderr });
    } catch (error) {
      if (generation === this.generation) this.setState({ kind: 'stopped' });
      throw error;
    }
    if (this.disposed || generation !== this.generation) {
      // stopped while it started
      await server.stop().catch(() => undefined);
      throw new Error('the compute server was stopped while it started');
    }
    this.server = server;
    for (const attach of this.attachments) attach(server.connection);
    void server.exited.then((exit) => this.onExit(server, exit));
    this.setState({ kind: 'running', info: server.info });
    return server;
  }

  private onExit(server: LaunchedServer, exit: ServerExit): void {
    if (this.server !== server) return; // stopped on purpose
    this.server = undefined;
    server.connection.dispose();
    this.lostEmitter.fire(`the compute server stopped unexpectedly (${describeExit(exit)})`);
    this.crashed(exit);
  }

  private crashed(exit: ServerExit | undefined, error?: string): void {
    if (this.disposed) return;
    const decision = this.backoff.recordCrash((this.options.now ?? Date.now)());
    if (decision.action === 'give-up') {
      this.setState({ kind: 'gave-up' });
    } else {
      this.setState({ kind: 'restarting', delayMs: decision.delayMs });
      const generation = this.generation;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (generation !== this.generation || this.disposed) return;
        this.start().catch((startError: Error) => this.crashed(undefined, startError.message));
      }, decision.delayMs);
    }
    this.crashEmitter.fire({ exit, error, decision });
  }

  private clearRestartTimer(): void {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private setState(state: ServerState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }
}
