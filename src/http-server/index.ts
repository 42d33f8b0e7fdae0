export { sendJson } from './json-response';
export { BodyTooLargeError, readBody } from './read-body';
export { decodePathPart, requestUrl } from './request-url';
