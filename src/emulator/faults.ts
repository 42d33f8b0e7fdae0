import { createHash } from 'node:crypto';
import { z } from 'zod';

/** One rule applied to API requests whose method and path match. */
export const RouteFault = z.object({
  /** Any method when absent. */
  method: z.string().toUpperCase().optional(),
  /** Glob over the URL path: `*` matches within one segment, `**` across segments. */
  path: z.string().min(1),
  /** Fraction of matching requests hit (default 1). */
  rate: z.number().min(0).max(1).optional(),
  /** Hit only the next N matching requests, then the rule is spent. */
  count: z.number().int().positive().optional(),
  status: z.union([z.literal(429), z.literal(500), z.literal(503)]).optional(),
  /** Sent with a 429 or 503 (default 1). */
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** Delay before the request is handled (or failed). */
  latencyMs: z.number().int().min(0).optional(),
  /** Destroy the socket without any response. */
  drop: z.boolean().optional(),
  /** Hold the request (after `latencyMs`) until the fault set is next replaced or cleared, then go on. */
  hold: z.boolean().optional(),
});
export type RouteFault = z.infer<typeof RouteFault>;

/** The item stages a flaky item can fail at (preprocessing is a check of the bytes: it does not flake). */
export const FLAKY_STAGES = ['gather', 'predict', 'deliver'] as const;
export type FlakyStage = (typeof FLAKY_STAGES)[number];

/**
 * Items that fail transiently and deterministically: the items picked (a `rate` fraction, chosen by a hash
 * of `seed` and the item URL, so the same items in every run) fail their first `failAttempts` attempts at
 * each of `stages`, then succeed. Rules with the same seed pick disjoint items.
 */
export const FlakyItems = z.object({
  rate: z.number().min(0).max(1),
  stages: z.array(z.enum(FLAKY_STAGES)).min(1),
  failAttempts: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
});
export type FlakyItems = z.infer<typeof FlakyItems>;

export const FaultSet = z.object({
  routes: z.array(RouteFault).optional(),
  gather: z
    .object({
      latencyMs: z.number().int().min(0).optional(),
      failRate: z.number().min(0).max(1).optional(),
      /** Each item waits before its GET until the fault set is next replaced or cleared. */
      hold: z.boolean().optional(),
    })
    .optional(),
  predict: z.object({ failRate: z.number().min(0).max(1).optional() }).optional(),
  /** Fraction of uploaded datasets whose processing ends `FailedProcessing` (message `injected processing failure`). */
  processing: z.object({ failRate: z.number().min(0).max(1).optional() }).optional(),
  /** One rule or several (e.g. 5 % flaky at gather and 2 % at deliver). */
  flakyItems: z.union([FlakyItems, z.array(FlakyItems)]).optional(),
});
export type FaultSet = z.infer<typeof FaultSet>;

type FaultAction = { latencyMs: number; hold?: Promise<void> } & (
  | { kind: 'none' }
  | { kind: 'drop' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
);

interface ActiveRule {
  rule: RouteFault;
  pattern: RegExp;
  remaining: number;
}

function globToRegExp(glob: string): RegExp {
  const segment = (part: string) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${glob.split('**').map(segment).join('.*')}$`);
}

/** The faults currently injected; replaced as a whole by `set`, cleared by `clear`. */
export class Faults {
  private rules: ActiveRule[] = [];
  private current: FaultSet = {};
  /** Releases of the requests held by `hold` rules: all of them go on when the fault set changes. */
  private held: (() => void)[] = [];
  /** Attempts so far per flaky (rule, stage, item URL); reset when the fault set changes. */
  private flakyAttempts = new Map<string, number>();

  constructor(initial: FaultSet = {}) {
    this.set(initial);
  }

  set(faults: FaultSet): void {
    const parsed = FaultSet.parse(faults);
    for (const release of this.held.splice(0)) release();
    this.current = parsed;
    this.flakyAttempts.clear();
    this.rules = (this.current.routes ?? []).map((rule) => ({
      rule,
      pattern: globToRegExp(rule.path),
      remaining: rule.count ?? Number.POSITIVE_INFINITY,
    }));
  }

  clear(): void {
    this.set({});
  }

  /** The fault set with spent rules removed, and how many requests are held right now. */
  describe(): FaultSet & { heldRequests: number } {
    return {
      ...this.current,
      routes: this.rules.filter((active) => active.remaining > 0).map((active) => active.rule),
      heldRequests: this.held.length,
    };
  }

  forRequest(method: string, path: string, random: () => number = Math.random): FaultAction {
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.method && rule.method !== method) continue;
      if (!active.pattern.test(path)) continue;
      if (random() >= (rule.rate ?? 1)) continue;
      active.remaining -= 1;
      const latencyMs = rule.latencyMs ?? 0;
      const hold = rule.hold ? new Promise<void>((release) => this.held.push(release)) : undefined;
      if (rule.drop) return { kind: 'drop', latencyMs, hold };
      if (rule.status) {
        const retryAfterSeconds = rule.status === 500 ? undefined : (rule.retryAfterSeconds ?? 1);
        return { kind: 'status', latencyMs, hold, status: rule.status, retryAfterSeconds };
      }
      return { kind: 'none', latencyMs, hold };
    }
    return { kind: 'none', latencyMs: 0 };
  }

  gatherLatencyMs(): number {
    return this.current.gather?.latencyMs ?? 0;
  }

  /** With `gather.hold`: resolves when the fault set next changes (the item's GET waits for it). */
  gatherHold(): Promise<void> | undefined {
    if (!this.current.gather?.hold) return undefined;
    return new Promise<void>((release) => this.held.push(release));
  }

  gatherFails(random: () => number = Math.random): boolean {
    return random() < (this.current.gather?.failRate ?? 0);
  }

  processingFails(random: () => number = Math.random): boolean {
    return random() < (this.current.processing?.failRate ?? 0);
  }

  predictionFails(random: () => number = Math.random): boolean {
    return random() < (this.current.predict?.failRate ?? 0);
  }

  /**
   * With `flakyItems`: whether this attempt of the item at this stage fails, and which attempt it is. Each
   * call is an attempt: call it once per item and stage, where the stage starts.
   */
  flakyItemFails(url: string, stage: FlakyStage): { fails: false } | { fails: true; attempt: number } {
    const flaky = this.current.flakyItems;
    if (!flaky) return { fails: false };
    const rules = Array.isArray(flaky) ? flaky : [flaky];
    const offsets = new Map<number, number>();
    for (const [index, rule] of rules.entries()) {
      const seed = rule.seed ?? 0;
      const from = offsets.get(seed) ?? 0;
      offsets.set(seed, from + rule.rate);
      if (!rule.stages.includes(stage)) continue;
      const position = hashFraction(`${seed}\n${url}`);
      if (position < from || position >= from + rule.rate) continue;
      const key = `${index}\n${stage}\n${url}`;
      const attempt = (this.flakyAttempts.get(key) ?? 0) + 1;
      this.flakyAttempts.set(key, attempt);
      if (attempt <= (rule.failAttempts ?? 1)) return { fails: true, attempt };
    }
    return { fails: false };
  }
}

/** A stable number in [0, 1) from the text (the first 48 bits of its SHA-256). */
function hashFraction(text: string): number {
  return createHash('sha256').update(text).digest().readUIntBE(0, 6) / 2 ** 48;
}
