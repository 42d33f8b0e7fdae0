// A dataset given as one word (a CLI argument, a schedule's --dataset): an http(s) URL the worker downloads,
// or a file path the worker reads. Decided here only, for `run`, `demo` and `schedule create|update`.
// Imports only node:path, so the CLI's eager imports may take it without loading zod.
import { resolve } from 'node:path';

export type DatasetArgumentSource = { ndjsonUrl: string } | { ndjsonPath: string };

/** `http://…` or `https://…`, in any case; anything else is a file path (even `http:foo`). */
export function isDatasetUrl(argument: string): boolean {
  return /^https?:\/\//i.test(argument);
}

/** The source the workflow takes: a URL as given, a path made absolute (the worker may run elsewhere). */
export function datasetArgumentSource(argument: string): DatasetArgumentSource {
  return isDatasetUrl(argument) ? { ndjsonUrl: argument } : { ndjsonPath: resolve(argument) };
}
