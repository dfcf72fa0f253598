// The subject, stream and bucket layout of a fiberrig lab on NATS (host/lab/README.md
// documents it). Every name used on the broker is made here.
import { LabError } from './errors.ts';

/** The JetStream stream holding every mirrored raw-log record (and each session's end marker). */
export const RAW_STREAM = 'FIBERRIG_RAW';
/** Its subjects: fiberrig.raw.<rig>.<session>. */
export const RAW_SUBJECTS = 'fiberrig.raw.>';
/** The archive's durable pull consumer (archive processes on it share the work). */
export const ARCHIVE_CONSUMER = 'fiberrig-archive';
/** The KV bucket of the fleet: one key per rig, expiring when its agent stops refreshing it. */
export const RIGS_BUCKET = 'fiberrig_rigs';
/**
 * The KV bucket of the archive's progress per session: key `<rig>.<session>`, history 1. An entry
 * lives ARCHIVE_BUCKET_TTL_MS after its last put (a session in progress is put at least every few
 * seconds while records arrive; a finished one is last put at its demod), then the broker drops it.
 */
export const ARCHIVE_BUCKET = 'fiberrig_archive';
export const ARCHIVE_BUCKET_TTL_MS = 7 * 24 * 3600_000;
/** JetStream's duplicate window of the raw stream: a retry within it is stored once. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** Message headers of a mirrored record. */
export const HEADER_KIND = 'Fr-Kind';
export const HEADER_OFFSET = 'Fr-Offset';
export const HEADER_SEQ = 'Fr-Seq';

/** A rig name or session id: one NATS subject token, also a file name. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export function checkToken(what: 'rig' | 'session', value: string): string {
  if (!TOKEN.test(value)) {
    throw new LabError('E_LAB_NAME', `${what} name "${value}" is not usable on the broker`, `use 1–64 letters, digits, "-" or "_" (no dots, spaces or wildcards)`);
  }
  return value;
}

export const commandSubject = (rig: string): string => `fiberrig.rig.${rig}.cmd`;
export const liveSubject = (rig: string): string => `fiberrig.live.${rig}`;
export const rawSubject = (rig: string, session: string): string => `fiberrig.raw.${rig}.${session}`;
/** The message id of record `seq` of a session: a retry carries the same id, so JetStream stores it once. */
export const recordMsgId = (rig: string, session: string, seq: number): string => `${rig}.${session}.${seq}`;
/** The archive progress bucket's key of a session. */
export const archiveProgressKey = (rig: string, session: string): string => `${rig}.${session}`;
export const endMsgId = (rig: string, session: string): string => `${rig}.${session}.end`;

/** rig and session of a raw subject. */
export function parseRawSubject(subject: string): { rig: string; session: string } {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'fiberrig' || parts[1] !== 'raw') {
    throw new LabError('E_LAB_SUBJECT', `unexpected subject ${subject} on the raw stream`, 'only agents may publish to fiberrig.raw.>; check the broker\'s permissions');
  }
  return { rig: checkToken('rig', parts[2]!), session: checkToken('session', parts[3]!) };
}

/** A new session id: UTC time to the millisecond (sorts in time order). */
export function newSessionId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('.', '-');
}
