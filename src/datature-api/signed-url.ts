// No imports: the CLI loads this for its output without loading the whole client.

/**
 * A signed URL (the dataset upload URL) carries a credential in its query string: this keeps origin and path
 * and masks the query, for errors and printed output.
 */
export function redactSignedUrl(url: string): string {
  let base: string;
  let query: boolean;
  try {
    const parsed = new URL(url);
    base = parsed.origin + parsed.pathname;
    query = parsed.search !== '';
  } catch {
    const end = url.search(/[?#]/);
    base = end < 0 ? url : url.slice(0, end);
    query = end >= 0;
  }
  return query ? `${base}?[REDACTED]` : base;
}
