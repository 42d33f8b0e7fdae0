// The time-skipping test server (from the bootstrap's binary) with the workflow bundle built once per suite.
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalTestServerPath } from '../../src/dev/binaries';
import { BATCH_SEARCH_ATTRIBUTES, DEFAULT_NAMESPACE } from '../../src/workflows/definitions';

export interface TimeSkipping {
  env: TestWorkflowEnvironment;
  workflowBundle: WorkflowBundleWithSourceMap;
}

export async function startTimeSkipping(): Promise<TimeSkipping> {
  const [env, workflowBundle] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
    }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') }),
  ]);
  // The time-skipping server takes no --search-attribute flag: register them through its operator service.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? DEFAULT_NAMESPACE,
    searchAttributes: Object.fromEntries(
      BATCH_SEARCH_ATTRIBUTES.map((key) => [
        key.name,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  return { env, workflowBundle };
}

/** Starts the server before the suite's tests and tears it down after; the fields are set once it runs. */
export function useTimeSkipping(): TimeSkipping {
  const suite = {} as TimeSkipping;
  beforeAll(async () => {
    Object.assign(suite, await startTimeSkipping());
  }, 120_000);
  afterAll(async () => {
    await suite.env?.teardown();
  });
  return suite;
}
