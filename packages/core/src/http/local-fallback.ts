import type { Store } from '../store/store.js';
import type { LimiterShared } from './limiter-shared.js';
import { localEngines } from './local-engines.js';
import type { ResolvedStage } from './resolved-stage.js';
import type { EngineOptions, StageEngines } from './stage-engines.js';
import { StoreFallback } from './store-fallback.js';

/**
 * One stage's side of `onStoreError: 'local'`: the limiter's {@link StoreFallback} for the
 * stage's store (shared with its other stages) and, for each set of engines the stage decides
 * with, its twin on the local store with every limit scaled by `localShare`.
 *
 * @example
 * ```ts
 * const local = new LocalFallback(shared, store, stage, [[engines, options]]);
 * const decideWith = local.decidesLocally() ? local.twin(engines) : engines;
 * ```
 */
export class LocalFallback {
  /** Whether the limiter decides locally, and its way back to the store. */
  readonly state: StoreFallback;
  readonly #twins = new Map<StageEngines, StageEngines>();

  /**
   * @param sets - each set of engines the stage decides with, and the options they were built
   *   from (the limiter's, and a route's own).
   */
  constructor(
    shared: LimiterShared,
    store: Store,
    stage: ResolvedStage,
    sets: readonly (readonly [StageEngines, EngineOptions])[],
  ) {
    let state = shared.fallbacks.get(store);
    if (state === undefined) {
      state = new StoreFallback(store, shared.events.emitter);
      shared.fallbacks.set(store, state);
    }
    this.state = state;
    const setup = {
      store: state.localStore,
      share: stage.localShare!,
      graceSeconds: stage.graceSeconds,
    };
    for (const [engines, options] of sets) {
      if (!this.#twins.has(engines)) this.#twins.set(engines, localEngines(options, setup));
    }
  }

  /** True while the limiter decides locally (see {@link StoreFallback.decidesLocally}). */
  decidesLocally(): boolean {
    return this.state.decidesLocally();
  }

  /** The local twin of `engines`, one of the sets this was made with. */
  twin(engines: StageEngines): StageEngines {
    const twin = this.#twins.get(engines);
    if (twin === undefined) throw new Error('sluice: no local engines for these engines');
    return twin;
  }
}
