// Loaded by path (the SDK's `failureConverterPath`), in the worker and inside the workflow bundle: a failure's
// message and stack trace go into its encoded attributes, a payload, so the codec encrypts them too (an error
// message may quote a URL or a file path). One exception: a payload this process could not decode. Its message
// names key ids only, and must stay readable to whoever lacks that key too (the workflow task failure in the
// history and the server's log say "cannot decode payload: unknown key id …", not "Encoded failure").
// Imports nothing but the SDK: it runs in the workflow sandbox.
import {
  DefaultFailureConverter,
  type FailureConverter,
  type PayloadConverter,
  type ProtoFailure,
} from '@temporalio/common';

/** `PayloadDecodeError.name` (encryption-codec.ts; not imported: that module needs node:crypto). */
const PAYLOAD_DECODE_ERROR = 'PayloadDecodeError';

class EncryptedFailureConverter implements FailureConverter {
  private readonly encoded = new DefaultFailureConverter({ encodeCommonAttributes: true });
  private readonly plain = new DefaultFailureConverter();

  errorToFailure(err: unknown, payloadConverter: PayloadConverter): ProtoFailure {
    const readable = err instanceof Error && err.name === PAYLOAD_DECODE_ERROR;
    return (readable ? this.plain : this.encoded).errorToFailure(err, payloadConverter);
  }

  /** Reads both: encoded attributes when a failure has them, its plain message otherwise. */
  failureToError(failure: ProtoFailure, payloadConverter: PayloadConverter): Error {
    return this.encoded.failureToError(failure, payloadConverter);
  }
}

export const failureConverter: FailureConverter = new EncryptedFailureConverter();
