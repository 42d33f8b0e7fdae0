export {
  addCodecKey,
  CODEC_KEY_BYTES,
  CODEC_KEYS_ENV,
  type CodecKey,
  CodecKeyError,
  loadCodecKeys,
  newCodecKey,
  parseCodecKeys,
} from './codec-keys';
export { CODEC_ALLOWED_HEADERS, type CodecServer, type CodecServerOptions, startCodecServer } from './codec-server';
export {
  type CodecKeysSource,
  codecDataConverter,
  dataConverterFromEnv,
  ENCRYPTED_FAILURES_CONVERTER_PATH,
} from './data-converter';
export {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_COMPRESSION,
  METADATA_KEY_ID,
  PayloadDecodeError,
} from './encryption-codec';
