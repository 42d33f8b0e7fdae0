import type { IncomingMessage } from 'node:http';

/**
 * The request's URL (path and query; the host is a placeholder), or undefined when the request line
 * holds nothing a URL parser accepts, e.g. `GET //x:99999/` or `GET http://x:99999/`. A server answers
 * that 400 rather than letting `new URL` throw out of its handler.
 */
export function requestUrl(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** `decodeURIComponent`, or undefined for a malformed escape such as `%E0%A4%A` (a client error, not a crash). */
export function decodePathPart(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
