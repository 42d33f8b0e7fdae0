/** Wall clock plus an adjustable offset, so tests can reach startAtTime or expiry without waiting. */
export class Clock {
  constructor(public offsetMs = 0) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }
}
