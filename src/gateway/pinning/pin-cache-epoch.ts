/**
 * Bumped whenever this process writes pins (a review, an accepted change), so pin caches in this process reload
 * at once; caches in other processes and replicas reload when their entries age out (`PIN_CACHE_MS`).
 */
let epoch = 0;

export function pinEpoch(): number {
  return epoch;
}

export function bumpPinEpoch(): void {
  epoch += 1;
}
