import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseIntFlag } from '../config';
import { UsageError } from '../errors';
import { Output } from '../output';
import { examples } from '../program';
import { waitForShutdownSignal } from '../shutdown';

interface CodecServerFlags {
  port: number;
  host: string;
  corsOrigin: string[];
  tokenFile?: string;
  keys?: string;
}

/** `codec-server` (the Web UI's remote codec endpoint) and `codec-key add` (a new encrypting key: rotation). */
export function register(program: Command): void {
  program
    .command('codec-server')
    .description("decode (and encode) payloads for the Temporal Web UI and CLI with the payload codec's keys")
    .option('--port <port>', 'port to listen on', parseIntFlag(0), 8081)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--cors-origin <origin>',
      'origin of a Web UI allowed to call from the browser, e.g. http://localhost:8233 or https://cloud.temporal.io (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--token-file <file>', 'file holding a token every request must send as `Authorization: Bearer <token>`')
    .option('--keys <file>', 'key file (default: env DATATURE_BATCH_CODEC_KEYS)')
    .addHelpText(
      'after',
      examples(
        'DATATURE_BATCH_CODEC_KEYS=keys.json datature-batch codec-server --port 8081 --cors-origin http://localhost:8233',
        'datature-batch codec-server --keys keys.json --cors-origin https://cloud.temporal.io --token-file codec.token',
      ),
    )
    .action(async (flags: CodecServerFlags, command: Command) => {
      const output = Output.of(command);
      const { CODEC_KEYS_ENV, EncryptionCodec, loadCodecKeys, startCodecServer } =
        require('../../codec') as typeof import('../../codec');
      const keysPath = flags.keys ?? process.env[CODEC_KEYS_ENV];
      if (!keysPath) throw new UsageError(`no key file: give --keys <file> or set ${CODEC_KEYS_ENV}`);
      const codec = new EncryptionCodec(loadCodecKeys(keysPath));
      const token = flags.tokenFile ? readToken(flags.tokenFile) : undefined;
      const server = await startCodecServer({
        codec,
        host: flags.host,
        port: flags.port,
        corsOrigins: flags.corsOrigin,
        token,
      });
      output.result(
        { url: server.url, corsOrigins: flags.corsOrigin, token: Boolean(token), keyIds: codec.keyIds },
        () =>
          [
            `codec server on ${server.url} (keys ${codec.keyIds.join(', ')}; ${token ? 'bearer token required' : 'no token'})`,
            `  Web UI: set the codec endpoint to ${server.url}` +
              (flags.corsOrigin.length ? ` (browsers allowed from ${flags.corsOrigin.join(', ')})` : ''),
            `  CLI:    temporal workflow show --codec-endpoint ${server.url} -w <workflowId>`,
          ].join('\n'),
      );
      await waitForShutdownSignal();
      await server.close();
    });

  program
    .command('codec-key')
    .description('manage the payload codec key file')
    .command('add')
    .description('put a new key first in the key file (it encrypts from the next start on; older keys still decrypt)')
    .argument('<file>', 'key file, created (mode 600) when absent')
    .option('--id <id>', 'id of the new key (default k<n+1>)')
    .addHelpText('after', examples('datature-batch codec-key add .data/codec-keys.json'))
    .action((file: string, flags: { id?: string }, command: Command) => {
      const { addCodecKey } = require('../../codec') as typeof import('../../codec');
      const id = addCodecKey(file, flags.id);
      Output.of(command).result(
        { file, id },
        () => `key ${id} added first in ${file}: restart workers, clients and the codec server to encrypt with it`,
      );
    });
}

function readToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`--token-file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  if (!token) throw new UsageError(`--token-file ${path} is empty`);
  return token;
}
