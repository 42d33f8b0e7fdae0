/**
 * Wall clock plus an adjustable offset, so tests can reach startAtTime or expiry without waiting; it can
 * also be frozen, so every item of a job finishes in the same millisecond (the case log paging must survive).
 */
export class Clock {
  /** When set, `now()` returns this instead of the wall clock. */
  frozenAt: number | undefined;

  constructor(public offsetMs = 0) {}

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }
}
