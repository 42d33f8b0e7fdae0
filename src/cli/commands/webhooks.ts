import type { Command } from 'commander';
import type { Webhook } from '../../datature-api';
import { datatureApiFor } from '../api-client';
import { parseIntFlag } from '../config';
import { fields, Output, table } from '../output';
import { examples } from '../program';
import { readOrCreateWebhookSecret } from '../webhook-secret';

interface RetryFlags {
  maxRetries?: number;
  maxRetryDelay?: number;
}

/** `webhooks create|list|get|update|update-secret|test|delete`, mirroring the Python SDK's CLI. */
export function register(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('webhooks that receive the predictions of batch jobs')
    .addHelpText(
      'after',
      examples(
        'datature-batch webhooks create --name sink --endpoint https://example.com/hook --secret-file hook.secret',
        'datature-batch webhooks test webhook_123',
      ),
    );

  const secretFileHelp = 'file holding the base64 secret; created with a new random secret (mode 600) if missing';

  withRetryFlags(
    webhooks
      .command('create')
      .description('create a webhook')
      .requiredOption('--name <name>', 'webhook name')
      .requiredOption('--endpoint <url>', 'HTTPS endpoint deliveries are POSTed to')
      .requiredOption('--secret-file <path>', secretFileHelp),
  ).action(async (opts: { name: string; endpoint: string; secretFile: string } & RetryFlags, command: Command) => {
    const output = Output.of(command);
    const datatureApi = datatureApiFor(command);
    const { secret, created } = readOrCreateWebhookSecret(opts.secretFile);
    if (created) output.info(`wrote a new webhook secret to ${opts.secretFile}`);
    const webhook = await datatureApi.webhooks.create({
      name: opts.name,
      endpoint: opts.endpoint,
      secret,
      retries: retriesOf(opts),
    });
    output.result(webhook, () => describeWebhook(webhook));
  });

  webhooks
    .command('list')
    .description('list webhooks')
    .option('--limit <n>', 'page size', parseIntFlag(1))
    .action(async (opts: { limit?: number }, command: Command) => {
      const output = Output.of(command);
      const all: Webhook[] = [];
      for await (const webhook of datatureApiFor(command).webhooks.list({ limit: opts.limit })) all.push(webhook);
      output.result(all, () =>
        table(
          ['ID', 'NAME', 'ENDPOINT'],
          all.map((webhook) => [webhook.id, webhook.name, webhook.endpoint]),
        ),
      );
    });

  webhooks
    .command('get')
    .description('show one webhook')
    .argument('<webhookId>')
    .action(async (webhookId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      const webhook = await datatureApiFor(command).webhooks.get(webhookId);
      output.result(webhook, () => describeWebhook(webhook));
    });

  withRetryFlags(
    webhooks
      .command('update')
      .description('change the endpoint or retry policy of a webhook')
      .argument('<webhookId>')
      .option('--endpoint <url>', 'new endpoint'),
  ).action(async (webhookId: string, opts: { endpoint?: string } & RetryFlags, command: Command) => {
    const output = Output.of(command);
    const webhook = await datatureApiFor(command).webhooks.update(webhookId, {
      endpoint: opts.endpoint,
      retries: retriesOf(opts),
    });
    output.result(webhook, () => describeWebhook(webhook));
  });

  webhooks
    .command('update-secret')
    .description('rotate the secret deliveries are signed with')
    .argument('<webhookId>')
    .requiredOption('--secret-file <path>', secretFileHelp)
    .action(async (webhookId: string, opts: { secretFile: string }, command: Command) => {
      const output = Output.of(command);
      const datatureApi = datatureApiFor(command);
      const { secret, created } = readOrCreateWebhookSecret(opts.secretFile);
      if (created) output.info(`wrote a new webhook secret to ${opts.secretFile}`);
      const webhook = await datatureApi.webhooks.updateSecret(webhookId, secret);
      output.result(webhook, () => describeWebhook(webhook));
    });

  webhooks
    .command('test')
    .description('send a signed test delivery to the webhook')
    .argument('<webhookId>')
    .action(async (webhookId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      const response = await datatureApiFor(command).webhooks.test(webhookId);
      output.result(response, () => fields(Object.entries(response)));
    });

  webhooks
    .command('delete')
    .description('delete a webhook')
    .argument('<webhookId>')
    .action(async (webhookId: string, _opts: unknown, command: Command) => {
      const output = Output.of(command);
      const deleted = await datatureApiFor(command).webhooks.delete(webhookId);
      output.result(deleted, () => `deleted webhook ${webhookId}`);
    });
}

function withRetryFlags(command: Command): Command {
  return command
    .option('--max-retries <n>', 'delivery retries', parseIntFlag(0))
    .option('--max-retry-delay <ms>', 'cap of the retry backoff in milliseconds', parseIntFlag(1));
}

function retriesOf(flags: RetryFlags): { maxRetries?: number; maxRetryDelay?: number } | undefined {
  if (flags.maxRetries === undefined && flags.maxRetryDelay === undefined) return undefined;
  return { maxRetries: flags.maxRetries, maxRetryDelay: flags.maxRetryDelay };
}

function describeWebhook(webhook: Webhook): string {
  return fields([
    ['id', webhook.id],
    ['name', webhook.name],
    ['endpoint', webhook.endpoint],
    ['retries', webhook.retries],
  ]);
}
