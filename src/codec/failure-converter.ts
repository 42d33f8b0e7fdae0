// Loaded by path (the SDK's `failureConverterPath`), in the worker and inside the workflow bundle: a failure's
// message and stack trace go into its encoded attributes, a payload, so the codec encrypts them too (an error
// message may quote a URL or a file path). Imports nothing but the SDK: it runs in the workflow sandbox.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
