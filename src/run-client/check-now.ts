// The `checkNow` signal: the run looks at its job at once instead of at its next planned look. Sent by
// `datature-batch poke` and by a receiver that holds a prediction for every item of a watched job.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { checkNowSignal } from '../workflows/definitions';

export function checkNow(handle: WorkflowHandle, from: string): Promise<void> {
  return handle.signal(checkNowSignal, { from });
}

/**
 * A receiver's `onJobComplete` that signals the watched run, connecting on first use (a receiver may start
 * before Temporal is up, and most never need the connection). `close` closes it if it was opened.
 */
export function checkNowNotifier(connect: () => Promise<{ client: Client; close(): Promise<void> }>): {
  onJobComplete(watch: { workflowId: string }): Promise<void>;
  close(): Promise<void>;
} {
  let session: ReturnType<typeof connect> | undefined;
  return {
    async onJobComplete({ workflowId }) {
      session ??= connect();
      const { client } = await session;
      await checkNow(client.workflow.getHandle(workflowId), 'receiver');
    },
    async close() {
      if (session) await (await session.catch(() => undefined))?.close();
    },
  };
}
