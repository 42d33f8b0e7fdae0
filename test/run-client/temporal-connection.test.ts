// The CLI, the worker and services read TLS and the API key the same way (envconfig), so `run` and `status`
// reach Temporal Cloud as the worker does. No profile file is read: TEMPORAL_CONFIG_FILE points nowhere.
import { join } from 'node:path';
import { temporalConnectionOptions } from '../../src/run-client/connection';

const noProfile = { TEMPORAL_CONFIG_FILE: join(__dirname, 'no-such-temporal.toml') };

test('an API key turns TLS on and is passed with the flag address', () => {
  const { connection, namespace } = temporalConnectionOptions('ns.a1b2c.tmprl.cloud:7233', {
    ...noProfile,
    TEMPORAL_ADDRESS: 'ignored:7233',
    TEMPORAL_NAMESPACE: 'ns.a1b2c',
    TEMPORAL_API_KEY: 'key-123',
  });
  expect(connection).toMatchObject({ address: 'ns.a1b2c.tmprl.cloud:7233', apiKey: 'key-123', tls: true });
  expect(namespace).toBe('ns.a1b2c');
});

test('without an address flag the env address is used, and plain local connections stay plain', () => {
  const { connection } = temporalConnectionOptions(undefined, { ...noProfile, TEMPORAL_ADDRESS: '127.0.0.1:7233' });
  expect(connection).toMatchObject({ address: '127.0.0.1:7233' });
  expect(connection.apiKey).toBeUndefined();
  expect(connection.tls).toBeFalsy();
});

test('gRPC metadata from TEMPORAL_GRPC_META_* is kept', () => {
  const { connection } = temporalConnectionOptions('127.0.0.1:7233', {
    ...noProfile,
    TEMPORAL_GRPC_META_X_TENANT: 'blue',
  });
  expect(connection.metadata).toMatchObject({ 'x-tenant': 'blue' });
});
