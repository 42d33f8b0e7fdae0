import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signed upload URLs in the manner of a GCS V4 signed URL: dataset id + expiry, HMAC-signed. */
export class UploadSigner {
  constructor(private readonly key: string) {}

  private signature(datasetId: string, expiresAt: number): string {
    return createHmac('sha256', this.key).update(`PUT\n${datasetId}\n${expiresAt}`).digest('hex');
  }

  url(baseUrl: string, datasetId: string, expiresAt: number): string {
    return `${baseUrl}/_uploads/${datasetId}?expires=${expiresAt}&signature=${this.signature(datasetId, expiresAt)}`;
  }

  verify(datasetId: string, expires: string | null, signature: string | null): boolean {
    if (!expires || !signature || !/^\d{1,15}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return false;
    const expected = Buffer.from(this.signature(datasetId, Number(expires)), 'hex');
    return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  }
}

export function uploadHeaders(datasetId: string, sizeBytes: number, crc32c: string): Record<string, string> {
  return {
    'content-type': 'application/x-ndjson',
    'content-length': String(sizeBytes),
    'x-goog-hash': `crc32c=${crc32c}`,
    'x-goog-if-generation-match': '0',
    'x-goog-meta-datature-dataset-link': datasetId,
  };
}
