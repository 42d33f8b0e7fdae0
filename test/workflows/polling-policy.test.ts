// The polling policy alone (pure): job shapes simulated look by look, with the lag between the job's end
// and the look that sees it. The same policy on the real workflow is measured by bench/polling-cost.ts.
import {
  DEFAULT_POLL_BOUNDS,
  datasetPollDelayMs,
  firstLookDelayMs,
  firstLookSpreadMs,
  nextPoll,
  type PollMemory,
  STOP_GRACE_MS,
} from '../../src/workflows/polling-policy';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Shape {
  itemCount: number;
  /** When the last item is accounted for. */
  endMs: number;
  accountedAt(ms: number): number;
}

const linear = (durationMs: number, itemCount = 1000): Shape => ({
  itemCount,
  endMs: durationMs,
  accountedAt: (ms) => Math.min(itemCount, Math.floor((itemCount * ms) / durationMs)),
});

/** Looks at the shape as the workflow would (first look, then the policy) until the end is seen. */
function simulate(shape: Shape, random = () => 0.5, failingUntilMs = 0, scheduled = false) {
  const spreadMs = firstLookSpreadMs(DEFAULT_POLL_BOUNDS, scheduled);
  let now = firstLookDelayMs({ nowMs: 0, runningSinceMs: 0 }, DEFAULT_POLL_BOUNDS, random(), spreadMs);
  let memory: PollMemory = { polls: 0, stalledPolls: 0 };
  const lookTimes: number[] = [];
  const delays: number[] = [];
  let aimedLooks = 0;
  let lastSeen = 0;
  for (;;) {
    lookTimes.push(now);
    const failed = now < failingUntilMs;
    if (!failed) lastSeen = shape.accountedAt(now);
    if (!failed && lastSeen >= shape.itemCount) break;
    const next = nextPoll(
      memory,
      { nowMs: now, runningSinceMs: 0, accounted: lastSeen, itemCount: shape.itemCount, failed },
      DEFAULT_POLL_BOUNDS,
      random(),
    );
    memory = next.memory;
    if (memory.aimed) aimedLooks++;
    delays.push(next.delayMs);
    now += next.delayMs;
  }
  return { looks: lookTimes.length, lagMs: now - Math.max(shape.endMs, failingUntilMs), lookTimes, delays, aimedLooks };
}

const lagGoalMs = (elapsedMs: number) => Math.max(5_000, 0.03 * elapsedMs);

test.each([
  ['10 min', 10 * MINUTE, 20],
  ['2 h', 2 * HOUR, 22],
  ['24 h', 24 * HOUR, 45],
  ['3 days', 72 * HOUR, 100],
])('a %s linear job is seen ending within 3 %% of its run time, in few looks', (_label, durationMs, maxLooks) => {
  for (const random of [0, 0.5, 0.999]) {
    const { looks, lagMs, delays } = simulate(linear(durationMs), () => random);
    expect(lagMs).toBeGreaterThanOrEqual(0);
    expect(lagMs).toBeLessThanOrEqual(lagGoalMs(durationMs));
    expect(looks).toBeLessThanOrEqual(maxLooks);
    expect(Math.max(...delays)).toBeLessThanOrEqual(HOUR);
  }
});

test('a short job about to end gets one look aimed at its estimated end instead of the 5 s floor', () => {
  for (const random of [0, 0.5, 0.999]) {
    // 30 s: the floor alone would see the end 3 to 4 s late, in the same 5 looks.
    const { looks, lagMs } = simulate(linear(30_000), () => random);
    expect(looks).toBeLessThanOrEqual(5);
    expect(lagMs).toBeGreaterThanOrEqual(0);
    expect(lagMs).toBeLessThanOrEqual(1_500);
  }
});

test('jobs of 200 s and more never get an aimed look: their polling is what it was', () => {
  for (const durationMs of [200_000, 10 * MINUTE, 2 * HOUR, 24 * HOUR]) {
    for (const random of [0, 0.5, 0.999]) expect(simulate(linear(durationMs), () => random).aimedLooks).toBe(0);
  }
  expect(simulate(linear(30_000)).aimedLooks).toBe(1);
});

test('an aimed look that finds the job not yet done is not followed by another: the floor holds', () => {
  // Linear to 99 % at 30 s, then the last 10 items until 60 s: the estimate at 30 s is far too early.
  const shape: Shape = {
    itemCount: 1000,
    endMs: 60_000,
    accountedAt: (ms) => (ms < 30_000 ? Math.floor((990 * ms) / 30_000) : ms < 60_000 ? 990 : 1000),
  };
  const { delays } = simulate(shape);
  const short = delays.map((delayMs) => delayMs < DEFAULT_POLL_BOUNDS.minIntervalMs);
  expect(short.some(Boolean)).toBe(true);
  expect(short.some((isShort, i) => isShort && short[i + 1])).toBe(false);
});

test('a 1-hour stall at 99 % backs off: at most 30 looks during it, the end still seen within 3 %', () => {
  const stallStart = 0.99 * 2 * HOUR;
  const shape: Shape = {
    itemCount: 1000,
    endMs: stallStart + HOUR,
    accountedAt: (ms) => (ms < stallStart ? Math.floor((1000 * ms) / (2 * HOUR)) : ms < stallStart + HOUR ? 990 : 1000),
  };
  const { lagMs, lookTimes } = simulate(shape);
  const duringStall = lookTimes.filter((ms) => ms > stallStart && ms < stallStart + HOUR);
  expect(duringStall.length).toBeLessThanOrEqual(30);
  expect(duringStall.length).toBeGreaterThan(3);
  expect(lagMs).toBeLessThanOrEqual(lagGoalMs(shape.endMs));
});

test('looks that see nothing new double the sleep until the lag budget holds it', () => {
  let memory: PollMemory = { polls: 20, lastAccounted: 500, lastDelayMs: 10_000, stalledPolls: 0 };
  const delays: number[] = [];
  for (let look = 0; look < 8; look++) {
    const next = nextPoll(
      memory,
      { nowMs: 10 * HOUR, runningSinceMs: 0, accounted: 500, itemCount: 1000 },
      DEFAULT_POLL_BOUNDS,
      0,
    );
    delays.push(next.delayMs);
    memory = next.memory;
  }
  // The floor after the first looks is 1 % of the 10 h run (6 min); the lag budget 2.5 % (15 min).
  expect(delays).toEqual([360_000, 720_000, 900_000, 900_000, 900_000, 900_000, 900_000, 900_000]);
  expect(memory.stalledPolls).toBe(8);
});

test('with no progress until the end, the sleeps grow with the time waited up to the 10 min soft cap', () => {
  const shape: Shape = { itemCount: 1000, endMs: 2 * HOUR, accountedAt: (ms) => (ms >= 2 * HOUR ? 1000 : 0) };
  const { looks, lagMs, delays } = simulate(shape);
  expect(looks).toBeLessThanOrEqual(30);
  expect(Math.max(...delays)).toBeLessThanOrEqual(10 * MINUTE);
  expect(lagMs).toBeLessThanOrEqual(10 * MINUTE);
});

test('while the API fails the sleeps double up to the cap, and the end is seen once it answers again', () => {
  const outageEnd = 7 * HOUR;
  const { lookTimes, delays, lagMs } = simulate(linear(2 * HOUR), () => 0.5, outageEnd);
  const duringOutage = lookTimes.filter((ms) => ms < outageEnd);
  // A 7-hour outage costs a few dozen looks, not one every few seconds.
  expect(duringOutage.length).toBeLessThan(60);
  expect(Math.max(...delays)).toBeLessThanOrEqual(HOUR);
  expect(lagMs).toBeLessThanOrEqual(HOUR);
});

test('the cap grows to 60 min only when the estimated time left is long; the hard cap always holds', () => {
  const early = { nowMs: 10 * HOUR, runningSinceMs: 0, accounted: 100, itemCount: 1000 };
  const memory: PollMemory = { polls: 10, lastAccounted: 50, stalledPolls: 0 };
  expect(nextPoll(memory, early, DEFAULT_POLL_BOUNDS, 0).delayMs).toBe(HOUR);
  expect(nextPoll(memory, early, { minIntervalMs: 5_000, maxIntervalMs: 10 * MINUTE }, 0.99).delayMs).toBe(10 * MINUTE);
  // 90 % done after 1 h: a few minutes left, so the next look is within them.
  const late = { nowMs: HOUR, runningSinceMs: 0, accounted: 900, itemCount: 1000 };
  expect(nextPoll({ ...memory, lastAccounted: 850 }, late, DEFAULT_POLL_BOUNDS, 0).delayMs).toBeLessThanOrEqual(
    (HOUR / 9) * 0.5,
  );
});

test('no sleep runs past the job stopAtTime (plus the grace) nor its startAtTime plus the first look', () => {
  const memory: PollMemory = { polls: 10, lastAccounted: 50, stalledPolls: 0 };
  const observation = { nowMs: 10 * HOUR, runningSinceMs: 0, accounted: 100, itemCount: 1000 };
  const stopAtTime = 10 * HOUR + 5 * MINUTE;
  expect(nextPoll(memory, { ...observation, stopAtTime }, DEFAULT_POLL_BOUNDS, 0).delayMs).toBe(
    5 * MINUTE + STOP_GRACE_MS,
  );
  // A stop time already behind does not shorten anything.
  expect(nextPoll(memory, { ...observation, stopAtTime: HOUR }, DEFAULT_POLL_BOUNDS, 0).delayMs).toBe(HOUR);
  // A job that starts in an hour is first looked at one first look after it starts.
  expect(firstLookDelayMs({ nowMs: 0, runningSinceMs: HOUR }, DEFAULT_POLL_BOUNDS, 0, 1_000)).toBe(HOUR + 5_000);
  expect(firstLookDelayMs({ nowMs: 0, runningSinceMs: HOUR, stopAtTime: 0 }, DEFAULT_POLL_BOUNDS, 0, 0)).toBe(
    STOP_GRACE_MS,
  );
  // Started by hand: 5 to 6 s; by a schedule: 5 to 65 s.
  expect(firstLookSpreadMs(DEFAULT_POLL_BOUNDS, false)).toBe(1_000);
  expect(firstLookSpreadMs(DEFAULT_POLL_BOUNDS, true)).toBe(60_000);
  expect(firstLookDelayMs({ nowMs: 0, runningSinceMs: 0 }, DEFAULT_POLL_BOUNDS, 0.99, 20_000)).toBe(24_800);
});

test('runs one schedule tick starts spread their looks: in no second do more than 10 of 100 look', () => {
  // A deterministic stand-in for each run's seeded workflow random.
  const seeded = (seed: number) => {
    let state = seed * 7919 + 1;
    return () => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
  };
  const perSecond = new Map<number, number>();
  for (let run = 0; run < 100; run++) {
    for (const ms of simulate(linear(2 * HOUR), seeded(run), 0, true).lookTimes) {
      const second = Math.floor(ms / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
  }
  expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10);
});

test('the dataset wait looks after 2 s, then less often, at most every minute', () => {
  expect(datasetPollDelayMs(0)).toBe(2_000);
  expect(datasetPollDelayMs(100_000)).toBe(20_000);
  expect(datasetPollDelayMs(HOUR)).toBe(60_000);
});
