import type { IncomingMessage } from 'node:http';
import { BODY_LIMITS, IngestError } from './ingest.js';

/** Reads a request body into a Buffer, refusing (413) past `BODY_LIMITS.maxBodyBytes`. */
export function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > BODY_LIMITS.maxBodyBytes) {
      req.resume();
      reject(new IngestError(413, 'request body too large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMITS.maxBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new IngestError(413, 'request body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
