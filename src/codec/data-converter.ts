// The one place the codec is switched on: the data converter every Temporal client and worker of the
// project is given (CLI, worker, schedules, the run-client helpers, the dev stack).
import type { DataConverter } from '@temporalio/common';
import { CODEC_KEYS_ENV, type CodecKey, loadCodecKeys } from './codec-keys';
import { EncryptionCodec } from './encryption-codec';

/** Failure messages and stacks encoded as payloads (so encrypted): see failure-converter.ts. */
export const ENCRYPTED_FAILURES_CONVERTER_PATH = require.resolve('./failure-converter');

export type CodecKeysSource = { keys: readonly CodecKey[] } | { keysPath: string };

export function codecDataConverter(source: CodecKeysSource): DataConverter {
  const keys = 'keys' in source ? source.keys : loadCodecKeys(source.keysPath);
  return {
    payloadCodecs: [new EncryptionCodec(keys)],
    failureConverterPath: ENCRYPTED_FAILURES_CONVERTER_PATH,
  };
}

/** The codec's data converter when env DATATURE_BATCH_CODEC_KEYS names a key file; else none (plain JSON). */
export function dataConverterFromEnv(env: Record<string, string | undefined> = process.env): DataConverter | undefined {
  const keysPath = env[CODEC_KEYS_ENV]?.trim();
  return keysPath ? codecDataConverter({ keysPath }) : undefined;
}
