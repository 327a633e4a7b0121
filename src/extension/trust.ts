/**
 * Workspace Trust: RepSim trains models and reads the files an experiment names, so nothing
 * runs in an untrusted workspace. Viewing saved results and writing a template stay allowed.
 */
export type TrustedAction = 'run experiments' | 'compare models' | 'cancel runs' | 'validate experiment files' | 'start the compute server' | 'show example images' | 'recompute cells';

export function trustRefusal(isTrusted: boolean, action: TrustedAction): string | undefined {
  if (isTrusted) return undefined;
  return `RepSim cannot ${action} in an untrusted workspace: it trains models and reads the files experiments name. Trust this workspace to use it.`;
}

/** Decides trust; tests may override it to check the refusal path in a trusted window. */
export class TrustGate {
  private override: boolean | undefined;

  constructor(private readonly workspaceIsTrusted: () => boolean) {}

  get isTrusted(): boolean {
    return this.override ?? this.workspaceIsTrusted();
  }

  refusal(action: TrustedAction): string | undefined {
    return trustRefusal(this.isTrusted, action);
  }

  /** For tests: pretend the workspace is (un)trusted; undefined returns to the real answer. */
  setOverride(trusted: boolean | undefined): void {
    this.override = trusted;
  }
}
