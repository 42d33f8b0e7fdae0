// Names of the Datature resources a run creates, derived only from the workflow id so that every retry,
// worker restart or continue-as-new finds the same dataset/job instead of creating a second one.

const MAX_NAME_LENGTH = 120;
const PREFIX_LENGTH = 80;

/** 64-bit FNV-1a as two 32-bit halves: pure arithmetic, so usable inside the workflow sandbox. */
function fnv1a64Hex(text: string): string {
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    low ^= text.charCodeAt(i);
    // Multiply by the FNV prime 0x100000001b3 = 2^40 + 0x1b3, in 16-bit limbs to stay exact.
    const lowProduct = low * 0x1b3;
    const carry = Math.floor(lowProduct / 0x100000000);
    const newLow = lowProduct >>> 0;
    const newHigh = (high * 0x1b3 + carry + ((low << 8) >>> 0)) >>> 0;
    low = newLow;
    high = newHigh;
  }
  return (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0');
}

function readable(workflowId: string): string {
  return workflowId
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, PREFIX_LENGTH);
}

/** The hash always survives the length cap: it is what makes the name unique. */
function nameFor(label: string, workflowId: string): string {
  const hash = fnv1a64Hex(workflowId).slice(0, 12);
  return `${label.slice(0, MAX_NAME_LENGTH - hash.length - 1)}-${hash}`;
}

export function datasetNameFor(workflowId: string): string {
  return nameFor(`wf-ds-${readable(workflowId)}`, workflowId);
}

/** A caller-chosen job name is kept readable; the workflow id's hash still makes it unique per run. */
export function jobNameFor(workflowId: string, requestedName?: string): string {
  return nameFor(requestedName ? readable(requestedName) : `wf-job-${readable(workflowId)}`, workflowId);
}

/** File name (no directory) of the NDJSON log file of a run. */
export function logFileNameFor(workflowId: string): string {
  return `${readable(workflowId)}-${fnv1a64Hex(workflowId).slice(0, 12)}.logs.ndjson`;
}
