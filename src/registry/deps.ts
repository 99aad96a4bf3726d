import type { AuditRecorder } from '../audit/types.js';
import type { Clock } from '../lib/clock.js';
import type { Store } from '../store/index.js';

/** What registry operations need: storage, the audit log and the time. */
export interface RegistryDeps {
  store: Store;
  audit: AuditRecorder;
  clock: Clock;
}
