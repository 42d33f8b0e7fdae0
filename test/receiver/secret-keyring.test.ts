import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretKeyring } from '../../src/receiver/secret-keyring';
import { newSecret, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

/** A clock the test moves by hand, so grace periods need no sleeping. */
function manualClock(startMs = 1_000_000) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

test('an atomic rename rotates the secret; the old one lasts exactly the grace period', () => {
  const path = join(tmp.dir, 'secret');
  const [oldSecret, rotated] = [newSecret(), newSecret()];
  writeFileSync(path, `${oldSecret}\n`);
  const clock = manualClock();
  const keyring = new SecretKeyring({ secretFile: path, graceSeconds: 60, now: clock.now });
  expect(keyring.current()).toEqual([oldSecret]);

  writeFileSync(`${path}.next`, rotated);
  renameSync(`${path}.next`, path);
  expect(keyring.current()).toEqual([rotated, oldSecret]);
  clock.advance(59_999);
  expect(keyring.current()).toEqual([rotated, oldSecret]);
  clock.advance(1);
  expect(keyring.current()).toEqual([rotated]);
});

test('an empty or vanished file (a writer mid-way) keeps the last secret', () => {
  const path = join(tmp.dir, 'secret');
  const secret = newSecret();
  writeFileSync(path, secret);
  const keyring = new SecretKeyring({ secretFile: path, graceSeconds: 60 });
  writeFileSync(path, '');
  expect(keyring.current()).toEqual([secret]);
  unlinkSync(path);
  expect(keyring.current()).toEqual([secret]);
});

test('rotating back to a secret still in grace does not list it twice; explicit secrets always count', () => {
  const path = join(tmp.dir, 'secret');
  const [a, b, explicit] = [newSecret(), newSecret(), newSecret()];
  writeFileSync(path, a);
  const clock = manualClock();
  const keyring = new SecretKeyring({ secrets: [explicit], secretFile: path, graceSeconds: 60, now: clock.now });
  writeFileSync(path, b);
  expect(keyring.current()).toEqual([explicit, b, a]);
  clock.advance(1);
  writeFileSync(path, `${a} `);
  expect(keyring.current()).toEqual([explicit, a, b]);
});

test('a missing or empty secret file at start is an error that does not quote the file', () => {
  expect(() => new SecretKeyring({ secretFile: join(tmp.dir, 'absent'), graceSeconds: 1 })).toThrow(
    /cannot read the webhook secret file .*absent: ENOENT/,
  );
  const empty = join(tmp.dir, 'empty');
  writeFileSync(empty, '\n');
  expect(() => new SecretKeyring({ secretFile: empty, graceSeconds: 1 })).toThrow(/at least one webhook secret/);
});
