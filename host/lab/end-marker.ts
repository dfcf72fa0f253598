// A session's end marker: the last message of a session on the raw stream, saying what the whole
// raw log is (records, bytes, SHA-256) so the archive can prove its copy identical.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export interface SessionEndMarker {
  format: 'fiberrig-session-end';
  rig: string;
  session: string;
  records: number;
  bytes: number;
  sha256: string;
  /** Bytes after the last whole record (a torn tail of a crash): not mirrored. */
  unmirroredBytes: number;
  /** Events marked through the agent's `mark` command during the session. */
  marks: SessionMark[];
}

export interface SessionMark {
  label: string;
  hostTimeUs: number;
}

/** SHA-256 of the first `bytes` bytes of a file (streamed). */
export async function sha256OfPrefix(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let at = 0;
    while (at < bytes) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - at), at);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export function parseEndMarker(data: Uint8Array): SessionEndMarker | undefined {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as SessionEndMarker;
    return v.format === 'fiberrig-session-end' && Number.isSafeInteger(v.bytes) && typeof v.sha256 === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
