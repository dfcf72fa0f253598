// Disk space for a recording: what an acquisition config writes per hour (the
// raw log, from the wire traffic it logs; the derived CSV files, from their
// rows; the analysis input, from its series), checked against the free space
// of the output directory before the device is touched, and a small reserve
// that guarantees the end-of-recording files (session.json, summary.json) can
// still be written once the disk fills.
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AcquisitionFile } from '../config/acquisition.ts';
import { RECORD_OVERHEAD_BYTES } from './rawlog-format.ts';
import { DEFAULT_RAWLOG_BUFFER_BYTES } from './rawlog-writer.ts';

/** Bytes per sample on the wire (the 16-bit sample formats every device so far sends). */
export const WIRE_BYTES_PER_SAMPLE = 2;
/**
 * Per SampleBlock frame: envelope and block fields, COBS delimiter and CRC, with a margin (with the rx
 * record per frame, the raw-log estimate is 1.09x a 60 s simulator recording of the default config).
 */
export const FRAME_OVERHEAD_BYTES = 48;
/** Per value in a derived CSV file (9 significant digits and a separator; measured: 10.9) and per row (time column of a long recording, newline). */
const CSV_VALUE_BYTES = 11;
const CSV_ROW_BYTES = 13;
/** Per aux value in aux.csv: volts in 7-digit exponent form and a separator (",-6.188507e-5": 12 or 13). */
const AUX_CSV_VALUE_BYTES = 13;
/**
 * analysis-input.bin (host/analysis/input-file.ts): float64 series of every signal column at the
 * analysis rate (10 Hz by default), and with EEG/EMG the sleep features (EMG envelope at 10 Hz, four
 * band powers at 1 Hz, per-epoch features): 125 B/s measured on the default config, 128 allowed.
 */
const ANALYSIS_RATE_HZ = 10;
const ANALYSIS_VALUE_BYTES = 8;
const ANALYSIS_SLEEP_BYTES_PER_S = 128;
/** Heartbeat traffic logged per second (a request record and the reply's bytes, 4 per timeout). */
const HEARTBEAT_BYTES_PER_S = 4 * 2 * (RECORD_OVERHEAD_BYTES + 48);

export interface DiskSpaceEstimate {
  /** Raw log bytes per hour of recording. */
  rawLogBytesPerHour: number;
  /** Derived files (signals.csv, aux.csv, analysis-input.bin) bytes per hour. */
  derivedBytesPerHour: number;
  bytesPerHour: number;
}

/** What one hour of `file` writes (an estimate: see the constants above and host/record/README.md). */
export function estimateRecordingBytes(file: AcquisitionFile): DiskSpaceEstimate {
  const blockSamples = file.blockSamples;
  const framesPerS = file.sampleRateHz / blockSamples;
  // each frame is logged as (at least) one rx record; COBS adds one byte in 254
  const frameBytes = (payload: number): number => (payload + FRAME_OVERHEAD_BYTES) * (1 + 1 / 254) + RECORD_OVERHEAD_BYTES;
  const detectorPerS = framesPerS * frameBytes(blockSamples * file.detectors.length * WIRE_BYTES_PER_SAMPLE);
  let auxPerS = 0;
  let auxCsvPerS = 0;
  if (file.aux) {
    const auxBlock = file.aux.blockSamples ?? Math.max(1, Math.round((blockSamples * file.aux.rateHz) / file.sampleRateHz));
    auxPerS = (file.aux.rateHz / auxBlock) * frameBytes(auxBlock * file.aux.inputs.length * WIRE_BYTES_PER_SAMPLE);
    auxCsvPerS = (file.auxOutputRateHz ?? file.aux.rateHz) * (CSV_ROW_BYTES + file.aux.inputs.length * AUX_CSV_VALUE_BYTES);
  }
  const rawPerS = detectorPerS + auxPerS + HEARTBEAT_BYTES_PER_S;
  const signalColumns = file.detectors.length * Math.max(1, file.leds.length);
  const signalsPerS = (file.outputRateHz ?? 100) * (CSV_ROW_BYTES + signalColumns * CSV_VALUE_BYTES);
  const analysisPerS = signalColumns * ANALYSIS_RATE_HZ * ANALYSIS_VALUE_BYTES + (file.aux ? ANALYSIS_SLEEP_BYTES_PER_S : 0);
  const rawLogBytesPerHour = Math.ceil(rawPerS * 3600);
  const derivedBytesPerHour = Math.ceil((signalsPerS + auxCsvPerS + analysisPerS) * 3600);
  return { rawLogBytesPerHour, derivedBytesPerHour, bytesPerHour: rawLogBytesPerHour + derivedBytesPerHour };
}

export interface DiskSpaceCheck extends DiskSpaceEstimate {
  /** Bytes the recording of the requested duration needs (estimate). */
  neededBytes: number;
  /** Bytes free for this user on the output directory's file system. */
  freeBytes: number;
  fits: boolean;
  /** Hours of recording the free space holds at the estimated rate. */
  hoursFree: number;
}

/** Checks the requested `durationS` of `file` against the free space of `dir` (which must exist). */
export async function checkDiskSpace(dir: string, file: AcquisitionFile, durationS: number): Promise<DiskSpaceCheck> {
  const estimate = estimateRecordingBytes(file);
  const fs = await statfs(dir);
  const freeBytes = Number(fs.bavail) * Number(fs.bsize);
  const neededBytes = Math.ceil((estimate.bytesPerHour * durationS) / 3600);
  return { ...estimate, neededBytes, freeBytes, fits: neededBytes <= freeBytes, hoursFree: freeBytes / estimate.bytesPerHour };
}

/** True for an error (or its causes) meaning the disk or quota is full. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return true;
  }
  return false;
}

export const SPACE_RESERVE_FILE_NAME = '.fiberrig-space-reserve';

/**
 * What the reserve holds by default: the raw log's buffer (still written when the disk fills, its end
 * record last) and 64 KiB for session.json and summary.json.
 */
const RESERVE_BYTES = DEFAULT_RAWLOG_BUFFER_BYTES + 64 * 1024;

/**
 * A file of `bytes` held while recording: released when the disk fills (or at
 * the end), so the files that say what happened can still be written.
 */
export class SpaceReserve {
  private constructor(readonly path: string, private held: boolean) {}

  /** Holds `bytes` in `dir`; holds nothing (and says so) when even that does not fit. */
  static async create(dir: string, bytes = RESERVE_BYTES): Promise<SpaceReserve> {
    const path = join(dir, SPACE_RESERVE_FILE_NAME);
    try {
      await writeFile(path, Buffer.alloc(bytes, 0x20), { flag: 'wx' });
      return new SpaceReserve(path, true);
    } catch {
      await unlink(path).catch(() => undefined);
      return new SpaceReserve(path, false);
    }
  }

  get isHeld(): boolean {
    return this.held;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await unlink(this.path).catch(() => undefined);
  }
}
