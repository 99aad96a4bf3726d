import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/index.js';

/** What registry operations need: storage (which also takes their audit entries) and the time. */
export interface RegistryDeps {
  store: Store;
  clock: Clock;
}
