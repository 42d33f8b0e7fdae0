// The Nexus endpoint through which workflows of other namespaces call the `datatureBatch` service: it routes
// to the worker's namespace and task queue. What `temporal operator nexus endpoint create` does, through the
// operator service, for the dev stack and the tests (docs/nexus.md has the CLI line for a real cluster).
import type { Connection } from '@temporalio/client';

/** Endpoint names: a letter, then letters, digits and dashes (no underscores). */
export const DEV_NEXUS_ENDPOINT = 'datature-batch';
/** The dev stack's second namespace, where a caller's workflows run. */
export const DEV_CALLER_NAMESPACE = 'callers';

export interface NexusEndpointTarget {
  name: string;
  namespace: string;
  taskQueue: string;
}

/** Creates the endpoint, or points an existing one (a reused dev database) at `namespace`/`taskQueue`. */
export async function ensureNexusEndpoint(connection: Connection, target: NexusEndpointTarget): Promise<void> {
  const spec = {
    name: target.name,
    target: { worker: { namespace: target.namespace, taskQueue: target.taskQueue } },
  };
  const { endpoints } = await connection.operatorService.listNexusEndpoints({ name: target.name, pageSize: 1 });
  const existing = endpoints?.[0];
  if (!existing) {
    await connection.operatorService.createNexusEndpoint({ spec });
    return;
  }
  const worker = existing.spec?.target?.worker;
  if (worker?.namespace === target.namespace && worker.taskQueue === target.taskQueue) return;
  await connection.operatorService.updateNexusEndpoint({ id: existing.id, version: existing.version, spec });
}

/** `ensureNexusEndpoint` over a connection of its own. */
export async function ensureNexusEndpointAt(address: string, target: NexusEndpointTarget): Promise<void> {
  const { Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
  const connection = await Connection.connect({ address });
  try {
    await ensureNexusEndpoint(connection, target);
  } finally {
    await connection.close();
  }
}
