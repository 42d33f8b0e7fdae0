import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { BodyTooLargeError, decodePathPart, readBody } from '../http-server';

/** An error answered as `{"message": ...}` with its HTTP status, the shape the official SDK reads. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);

const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** The JSON body, or undefined when there is none (the SDK sends no body for `:test`). */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  let text: string;
  try {
    text = (await readBody(req, MAX_JSON_BODY_BYTES)).toString('utf8');
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new ApiError(413, 'request body is larger than 1 MiB');
    throw error;
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

/** Validates with zod; the message names the first offending field, e.g. `spec.endpoint: ...`. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw badRequest(`${field}: ${issue.message}`);
}

export interface Route<C> {
  method: string;
  pattern: RegExp;
  handle: (context: C, params: string[]) => Promise<unknown> | unknown;
}

/** A percent-decoded path segment; a malformed escape (e.g. `%E0%A4%A`) is the client's error, a 400. */
export function decodeSegment(segment: string): string {
  const decoded = decodePathPart(segment);
  if (decoded === undefined) throw badRequest(`path segment ${segment} has a malformed percent escape`);
  return decoded;
}

/** Finds the route for a method + path; a known path with another method is a 405. */
export function matchRoute<C>(
  routes: Route<C>[],
  method: string,
  path: string,
): { route: Route<C>; params: string[] } | undefined {
  let pathKnown = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathKnown = true;
    if (route.method === method) return { route, params: match.slice(1).map(decodeSegment) };
  }
  if (pathKnown) throw new ApiError(405, `method ${method} is not allowed on ${path}`);
  return undefined;
}
