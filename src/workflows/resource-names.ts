// Names of the Datature resources a run creates. They are derived from the run chain (the workflow id and the
// run id of its first execution), so every retry, worker restart or continue-as-new finds the same dataset/job
// instead of creating a second one, while a new run that reuses a workflow id gets resources of its own.

const MAX_NAME_LENGTH = 120;
const PREFIX_LENGTH = 80;
const HASH_LENGTH = 12;

/** A workflow execution chain: the first run and the runs continuing it (continue-as-new, retries). */
export interface RunChain {
  workflowId: string;
  firstExecutionRunId: string;
}

/** 64-bit FNV-1a as two 32-bit halves: pure arithmetic, so usable inside the workflow sandbox. */
export function fnv1a64Hex(text: string): string {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    low = (low ^ text.charCodeAt(i)) >>> 0;
    // Multiply by the FNV prime 0x100000001b3 = 2^40 + 0x1b3; low * 0x1b3 < 2^41 stays exact in a double.
    const lowProduct = low * 0x1b3;
    const carry = Math.floor(lowProduct / 0x100000000);
    high = (Math.imul(high, 0x1b3) + carry + ((low << 8) >>> 0)) >>> 0;
    low = lowProduct >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

function readable(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, PREFIX_LENGTH);
}

function chainHash(chain: RunChain): string {
  return fnv1a64Hex(`${chain.workflowId}\n${chain.firstExecutionRunId}`).slice(0, HASH_LENGTH);
}

/** The hash always survives the length cap: it is what makes the name unique. */
function nameFor(label: string, chain: RunChain): string {
  const hash = chainHash(chain);
  return `${label.slice(0, MAX_NAME_LENGTH - hash.length - 1)}-${hash}`;
}

/** Round 1 (the first job) has no suffix; a retry round of failed items adds `-r<round>`. */
function roundSuffix(round = 1): string {
  return round > 1 ? `-r${round}` : '';
}

export function datasetNameFor(chain: RunChain, round?: number): string {
  return nameFor(`wf-ds-${readable(chain.workflowId)}${roundSuffix(round)}`, chain);
}

/** A caller-chosen job name is kept readable; the run chain's hash still makes it unique. */
export function jobNameFor(chain: RunChain, requestedName?: string, round?: number): string {
  const label = requestedName ? readable(requestedName) : `wf-job-${readable(chain.workflowId)}`;
  return nameFor(`${label}${roundSuffix(round)}`, chain);
}

/** The files of a run sit side by side in the logs directory: `<workflow id>-<hash>.…`. */
function runFileBase(chain: RunChain): string {
  return `${readable(chain.workflowId)}-${chainHash(chain)}`;
}

/** File name (no directory) of the NDJSON log file of a run (of a retry round: `.r<round>.logs.ndjson`). */
export function logFileNameFor(chain: RunChain, round?: number): string {
  return `${runFileBase(chain)}${round && round > 1 ? `.r${round}` : ''}.logs.ndjson`;
}

/** The items that still failed after their rounds (item lines, so the file can be run again) and their reasons. */
export function failedItemsFileNamesFor(chain: RunChain): { fileName: string; reasonsFileName: string } {
  return {
    fileName: `${runFileBase(chain)}.failed.ndjson`,
    reasonsFileName: `${runFileBase(chain)}.failed.reasons.ndjson`,
  };
}

/** The dataset file of a retry round: the items of the round before that failed with a retried status. */
export function roundItemsFileNameFor(chain: RunChain, round: number): string {
  return `${runFileBase(chain)}.r${round}.items.ndjson`;
}

/**
 * The workflow id of one try of a shard: derived from the parent's id and the shard's index (and the try
 * after the first), so a replayed or restarted parent starts the same children, never a second copy.
 */
export function shardWorkflowIdFor(parentWorkflowId: string, index: number, attempt = 1): string {
  return `${parentWorkflowId}-shard-${index}${attempt > 1 ? `-try-${attempt}` : ''}`;
}
