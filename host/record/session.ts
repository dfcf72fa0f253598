// session.json: what a recording is (subject, notes, device, configuration,
// calibration in force, software versions, start and end, gaps, counters).
// Written when the acquisition starts and rewritten when it ends, each time
// atomically (temporary file + rename), so a crash leaves the last complete
// version. The raw log stays the source of truth; this file is its index card.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type AcquisitionConfigInit, type CalibrationTable, type DeviceInfo, pb } from '../../protocol/index.ts';
import { RecordError } from './errors.ts';
import { RAW_LOG_FILE_NAME } from './rawlog.ts';
import type { SoftwareVersions } from './version.ts';

export const SESSION_FILE_NAME = 'session.json';
export const SESSION_FORMAT_VERSION = 1;

/** Host-side processing settings (not sent to the device). */
export interface ProcessingSettings {
  outputRateHz?: number;
  lowpassHz?: number;
  auxOutputRateHz?: number;
}

export interface SessionGap {
  source: 'detector' | 'aux';
  sessionIndex: number;
  count: number;
  startS: number;
  durationS: number;
  reason: string;
  estimated: boolean;
  /** Half-width of the interval holding the true count, samples (0: counted; absent in recordings made before it existed). */
  uncertaintySamples?: number;
}

/** A span whose samples arrived but whose signals are NaN (every configured LED dark), detector rate. */
export interface SessionQualitySpan {
  source: 'detector';
  sessionIndex: number;
  count: number;
  startS: number;
  durationS: number;
  /** "leds-dark" */
  flag: string;
  /** Why: "watchdog" (the device's heartbeat watchdog), "fault", or "unexplained". */
  cause: string;
  /** "LEDs dark: watchdog" */
  label: string;
}

export interface SessionCounters {
  rawSamples: number;
  signalRows: number;
  gaps: number;
  missingSamples: number;
  deviceDroppedSamples: number;
  framesRejected: Record<string, number>;
  reconnects: number;
  bytesIn: number;
  rawLogBytes: number;
  rawLogRecords: number;
}

export interface SessionFile {
  format: 'fiberrig-session';
  formatVersion: number;
  rawLog: string;
  subject: string | null;
  notes: string | null;
  /** `infoSha256`: deviceInfoSha256 of `info` (lets replay use this copy when the raw log's is damaged). */
  device: { url: string; info: Record<string, unknown> | null; infoSha256?: string };
  /** The acquisition config file as given (host settings included), and the wire config sent to the device (`wireSha256`: wireConfigSha256). */
  config: { file: unknown; wire: Record<string, unknown> | null; wireSha256?: string };
  processing: ProcessingSettings;
  /** The device's LED calibration table when the recording started, or null when it has none. */
  calibration: Record<string, unknown> | null;
  /** Per LED: the drive requested, the current it means under the calibration, and that calibration's range. */
  ledDrives?: unknown[];
  /** Per LED: the drive (mA and µW) the device reported commanding while running, and its changes. */
  commandedPower?: unknown[];
  software: SoftwareVersions;
  start: { hostTimeUs: number; iso: string };
  end: null | {
    hostTimeUs: number;
    iso: string;
    stoppedBy: string;
    /** Derived files hold data before this session time only (live and offline alike). */
    cutoffS: number;
    durationS: number;
    /** Why the recording stopped, when stoppedBy is "error". */
    error?: string;
  };
  requestedDurationS: number | null;
  /**
   * "recording" while it runs, "complete" when it ended as asked (duration or Ctrl-C), "failed" when an error ended
   * it (a FAILED file then says why). Absent in recordings made before it existed.
   */
  status?: 'recording' | 'complete' | 'failed';
  gaps: SessionGap[];
  /** Flagged spans (LEDs dark); absent in recordings made before it existed. */
  quality?: SessionQualitySpan[];
  counters: SessionCounters | null;
  derivedFiles: string[];
  /** The pre-flight disk space estimate (bytes per hour) against the free space. */
  diskSpace?: unknown;
}

const jsonOptions = { defaults: true, arrays: true, enums: String, longs: Number } as const;

export function deviceInfoJson(info: DeviceInfo): Record<string, unknown> {
  return pb.DeviceInfo.toObject(pb.DeviceInfo.fromObject(info as never), jsonOptions);
}

export function configJson(config: AcquisitionConfigInit): Record<string, unknown> {
  return pb.AcquisitionConfig.toObject(pb.AcquisitionConfig.fromObject(config as never), { ...jsonOptions, defaults: false, oneofs: false });
}

export function calibrationJson(table: CalibrationTable): Record<string, unknown> {
  return pb.CalibrationTable.toObject(pb.CalibrationTable.fromObject(table as never), jsonOptions);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 (hex) of the device info's canonical protobuf encoding (the encoding of its session.json form). */
export function deviceInfoSha256(info: DeviceInfo): string {
  return sha256(pb.DeviceInfo.encode(pb.DeviceInfo.fromObject(deviceInfoJson(info))).finish());
}

/** SHA-256 (hex) of the wire config's canonical protobuf encoding (the encoding of its session.json form). */
export function wireConfigSha256(config: AcquisitionConfigInit): string {
  return sha256(pb.AcquisitionConfig.encode(pb.AcquisitionConfig.fromObject(configJson(config))).finish());
}

/** session.json's device info, when its hash checks out (else undefined). */
export function sessionDeviceInfo(session: SessionFile | null): DeviceInfo | undefined {
  const json = session?.device.info;
  if (!json || !session.device.infoSha256) return undefined;
  try {
    const info = pb.DeviceInfo.decode(pb.DeviceInfo.encode(pb.DeviceInfo.fromObject(json)).finish()) as unknown as DeviceInfo;
    return deviceInfoSha256(info) === session.device.infoSha256 ? info : undefined;
  } catch {
    return undefined;
  }
}

/** session.json's wire config (exactly as the device got it), when its hash checks out (else undefined). */
export function sessionWireConfig(session: SessionFile | null): AcquisitionConfigInit | undefined {
  const json = session?.config.wire;
  if (!json || !session.config.wireSha256) return undefined;
  try {
    const config = pb.AcquisitionConfig.toObject(pb.AcquisitionConfig.decode(pb.AcquisitionConfig.encode(pb.AcquisitionConfig.fromObject(json)).finish())) as AcquisitionConfigInit;
    return wireConfigSha256(config) === session.config.wireSha256 ? config : undefined;
  } catch {
    return undefined;
  }
}

/** Writes session.json atomically. */
export async function writeSession(dir: string, session: SessionFile): Promise<void> {
  const path = join(dir, SESSION_FILE_NAME);
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(session, null, 2)}\n`);
  await rename(tmp, path);
}

export async function readSession(dir: string): Promise<SessionFile | null> {
  let text: string;
  try {
    text = await readFile(join(dir, SESSION_FILE_NAME), 'utf8');
  } catch {
    return null;
  }
  try {
    const s = JSON.parse(text) as SessionFile;
    if (s.format !== 'fiberrig-session') throw new Error('not a fiberrig session file');
    return s;
  } catch (cause) {
    throw new RecordError('E_RECORDING_SESSION', `${join(dir, SESSION_FILE_NAME)} is not a valid session file: ${(cause as Error).message}`, 'the raw log alone is enough: move session.json away and retry', { cause });
  }
}

export interface RecordingPaths {
  dir: string;
  rawLog: string;
}

/** Resolves a recording argument: a recording directory, or a raw log file inside one. */
export async function resolveRecording(path: string): Promise<RecordingPaths> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch (cause) {
    throw new RecordError('E_RECORDING_NOT_FOUND', `no recording at ${path}`, 'pass the directory written by fiberrig acquire --out', { cause });
  }
  if (s.isDirectory()) {
    const rawLog = join(path, RAW_LOG_FILE_NAME);
    try {
      await stat(rawLog);
    } catch (cause) {
      throw new RecordError('E_RECORDING_NO_RAW_LOG', `${path} holds no ${RAW_LOG_FILE_NAME}`, 'pass a recording directory made by fiberrig acquire (it starts with the raw log)', { cause });
    }
    return { dir: path, rawLog };
  }
  return { dir: dirname(path), rawLog: path };
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
