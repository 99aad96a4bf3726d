import { auditedTransaction } from '../audit/audited-transaction.js';
import { GatehouseError } from '../errors/index.js';
import type { Clock } from '../lib/clock.js';
import { type CompiledBundle, compileBundle, digestOf, type PolicySource } from '../policy/index.js';
import type { PolicyPointer, PolicyPointerName, PolicyVersion, Store } from '../store/index.js';

/** Compiled bundles by stored version: any replica compiles a version at most once. */
interface LoadedVersion {
  version: number;
  bundle: CompiledBundle;
  pointer: PolicyPointer;
}

export interface PolicyStatus {
  active: { version: number; digest: string; activatedAt: number; activatedBy: string } | null;
  shadow: { version: number; digest: string; since: number; setBy: string } | null;
}

export interface PublishOptions {
  actor: string;
  message?: string;
  /** Make it the enforced bundle. */
  activate?: boolean;
  /** Run it in shadow mode beside the active one. */
  shadow?: boolean;
}

export interface PublishResult {
  version: number;
  digest: string;
  /** True when an identical bundle was already stored; no new version was made. */
  unchanged: boolean;
  activated: boolean;
}

/**
 * The policy bundles a process decides with. Versions live in the store (so every replica and the CLI see the
 * same ones); each process keeps the compiled active and shadow bundles and re-reads the pointers on `refresh`.
 */
export interface PolicyRuntime {
  /** The enforced bundle; an empty one (everything denied) until a version is activated. */
  active(): CompiledBundle;
  /** The candidate evaluated beside the active one, if any. */
  shadow(): CompiledBundle | undefined;
  status(): PolicyStatus;
  publish(sources: readonly PolicySource[], options: PublishOptions): Promise<PublishResult>;
  activate(version: number, actor: string): Promise<void>;
  setShadow(version: number | null, actor: string): Promise<void>;
  /** Compiles any stored version (for diff and explain against a candidate). */
  load(version: number): Promise<{ stored: PolicyVersion; bundle: CompiledBundle }>;
  list(limit?: number): Promise<Array<Omit<PolicyVersion, 'sources'>>>;
  /** Re-reads the pointers from the store; true when the active or shadow bundle changed. */
  refresh(): Promise<boolean>;
}

export const EMPTY_BUNDLE_VERSION = 'none';

export async function createPolicyRuntime(deps: { store: Store; clock: Clock }): Promise<PolicyRuntime> {
  const { store } = deps;
  const empty = compileBundle([{ name: '(no policy)', text: 'rules: []' }], {
    version: EMPTY_BUNDLE_VERSION,
  });
  const loaded: Partial<Record<PolicyPointerName, LoadedVersion>> = {};
  const versionLabel = (version: number) => `v${version}`;

  const load = async (version: number) => {
    const stored = await store.policyVersions.find(version);
    if (!stored) throw new GatehouseError('policy_version_not_found', `no policy version \`${version}\``);
    return { stored, bundle: compileBundle(stored.sources, { version: versionLabel(version) }) };
  };

  const refresh = async () => {
    const pointers = await store.policyVersions.pointers();
    let changed = false;
    for (const name of ['active', 'shadow'] as const) {
      const pointer = pointers.find((candidate) => candidate.name === name);
      const current = loaded[name];
      if (!pointer) {
        if (current) changed = true;
        delete loaded[name];
        continue;
      }
      if (current?.version === pointer.version) {
        current.pointer = pointer;
        continue;
      }
      // A stored version compiled when it was published; recompiling it cannot fail unless the engine changed.
      const { bundle } = await load(pointer.version);
      loaded[name] = { version: pointer.version, bundle, pointer };
      changed = true;
    }
    return changed;
  };

  const setPointer = async (name: PolicyPointerName, version: number, actor: string) => {
    const { stored } = await load(version);
    await auditedTransaction(deps, actor, async (tx, emit) => {
      await tx.policyVersions.setPointer({ name, version, updatedAt: deps.clock.now(), updatedBy: actor });
      emit({
        action: name === 'active' ? 'policy.activated' : 'policy.shadow_set',
        target: `policy:${version}`,
        details: { version, digest: stored.digest },
      });
    });
    await refresh();
  };

  await refresh();

  return {
    active: () => loaded.active?.bundle ?? empty,
    shadow: () => loaded.shadow?.bundle,
    status() {
      const active = loaded.active;
      const shadow = loaded.shadow;
      return {
        active: active
          ? {
              version: active.version,
              digest: active.bundle.digest,
              activatedAt: active.pointer.updatedAt,
              activatedBy: active.pointer.updatedBy,
            }
          : null,
        shadow: shadow
          ? {
              version: shadow.version,
              digest: shadow.bundle.digest,
              since: shadow.pointer.updatedAt,
              setBy: shadow.pointer.updatedBy,
            }
          : null,
      };
    },
    async publish(sources, options) {
      // Compile before storing anything: a bundle that does not compile never becomes a version.
      compileBundle(sources);
      const digest = digestOf(sources);
      const existing = await store.policyVersions.findByDigest(digest);
      let version = existing?.version;
      if (version === undefined) {
        version = await auditedTransaction(deps, options.actor, async (tx, emit) => {
          const stored = await tx.policyVersions.insertNext({
            digest,
            sources: sources.map((source) => ({ name: source.name, text: source.text })),
            message: options.message ?? null,
            createdAt: deps.clock.now(),
            createdBy: options.actor,
          });
          emit({
            action: 'policy.published',
            target: `policy:${stored.version}`,
            details: { version: stored.version, digest, files: sources.map((source) => source.name) },
          });
          return stored.version;
        });
      }
      const alreadyActive = loaded.active?.version === version;
      if (options.activate && !alreadyActive) await setPointer('active', version, options.actor);
      if (options.shadow) await setPointer('shadow', version, options.actor);
      return { version, digest, unchanged: existing !== undefined, activated: Boolean(options.activate) };
    },
    activate: (version, actor) => setPointer('active', version, actor),
    async setShadow(version, actor) {
      if (version !== null) return setPointer('shadow', version, actor);
      await auditedTransaction(deps, actor, async (tx, emit) => {
        if (await tx.policyVersions.clearPointer('shadow'))
          emit({ action: 'policy.shadow_cleared', target: 'policy' });
      });
      await refresh();
    },
    load,
    list: (limit = 50) => store.policyVersions.list(limit),
    refresh,
  };
}
