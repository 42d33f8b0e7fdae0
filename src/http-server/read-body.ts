import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body exceeds ${maxBytes} bytes`);
  }
}

/**
 * Reads the whole body, giving up with a BodyTooLargeError as soon as it passes maxBytes (whatever
 * Content-Length claimed). The rest of the body is left unread: the caller answers, then resumes
 * the request or closes the connection.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        request.off('data', onData);
        request.off('end', onEnd);
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks, received));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', reject);
  });
}
