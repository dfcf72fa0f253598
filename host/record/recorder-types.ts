// The types of a recording session (recorder.ts): what a Recorder is given, what it
// reports while it runs, and the summary it ends with.
import type { Observable } from 'rxjs';
import type { AcquisitionFile } from '../config/acquisition.ts';
import type { AcquisitionConfigInit, DeviceInfo } from '../../protocol/index.ts';
import type { DemodOptions, SignalBlock, SignalDemodulator } from '../pipeline/demodulate.ts';
import type { RigLight } from '../rig/light.ts';
import type { Rig, RigOptions } from '../rig/rig.ts';
import type { DerivedOutput } from './derived.ts';
import type { DiskSpaceCheck } from './disk-space.ts';

/** Why a recording stopped: its duration, a process signal (Ctrl-C), a `stop()` call (a Stop button), an error. */
export type StoppedBy = 'duration' | 'signal' | 'user' | 'error';

/** What the other derived outputs of a recording are made from (see RecorderOptions.derivedOutputs). */
export interface DerivedOutputsContext {
  /** The demodulator of the recording (its stages name the channels and rates). */
  demodulator: SignalDemodulator;
  wire: AcquisitionConfigInit;
  demodOptions: DemodOptions;
  info: DeviceInfo;
}

/** Passed to `beforeConfigure`: the connected device and the recording's one shared demodulation. */
export interface RecorderContext {
  rig: Rig;
  file: AcquisitionFile;
  wire: AcquisitionConfigInit;
  /** The recording's demodulated signals, shared: live consumers subscribe here instead of demodulating again. */
  signals$: Observable<SignalBlock>;
  outDir: string;
}

export interface RecorderOptions {
  /**
   * The device: a URL the recorder connects to (and closes at the end), or an open Rig it
   * borrows (stopped if running, configured and started by the recorder, stopped — not closed — at the end).
   */
  device: string | Rig;
  /** Options of the Rig the recorder connects (ignored for a borrowed Rig). */
  rigOptions?: RigOptions;
  /** The acquisition file (device configuration and host processing settings). */
  file: AcquisitionFile;
  /** Device time to record, seconds; Infinity records until stop(). */
  durationS: number;
  /** The recording directory (made when missing). */
  outDir: string;
  subject?: string | null;
  notes?: string | null;
  /**
   * Other files derived from the recording's signal blocks, written beside the CSV files
   * (e.g. the analysis input: the CLI passes its factory, so recording code does not depend on analysis).
   */
  derivedOutputs?: (ctx: DerivedOutputsContext) => DerivedOutput[];
  /**
   * Write the signal tables, signals.csv and aux.csv (default true). False leaves them out (the raw log,
   * session.json, events/gaps/quality.csv and the derived outputs are written alike): `fiberrig demod --in REC`
   * makes them later from the raw log, the same rows. A cohort's animals are recorded so.
   */
  signalTables?: boolean;
  /** Called after the handshake and before Configure (e.g. to start a live view on `signals$`); a throw ends the recording with nothing recorded. */
  beforeConfigure?: (ctx: RecorderContext) => Promise<void> | void;
  /** Stop on SIGINT/SIGTERM (stoppedBy "signal"); default false. */
  stopOnProcessSignals?: boolean;
  /** Interval of `progress` events, ms (default 1000). */
  progressIntervalMs?: number;
}

export interface RecordingSummary {
  recording: string;
  device: string;
  firmware: string;
  mode: string;
  durationS: number;
  rawSamples: number;
  signalRows: number;
  outputRateHz: number;
  channels: Array<{ name: string; mean: number; min: number; max: number }>;
  gaps: number;
  missingSamples: number;
  /** Flagged spans (quality.csv): samples arrived but signals are NaN. */
  qualityFlags: number;
  /** Spans with every configured LED dark, and their total length (s). */
  darkSpans: number;
  darkS: number;
  deviceDroppedSamples: number;
  framesRejected: Record<string, number>;
  reconnects: number;
  rawLogBytes: number;
  stoppedBy: StoppedBy;
  /** The pre-flight disk space estimate against the free space. */
  diskSpace?: DiskSpaceCheck;
}

/** What a finished recording returns: its summary, and the failure (already worded for the user) when it failed. */
export interface RecordingResult {
  summary: RecordingSummary;
  error?: Error;
  /** CPU seconds (user + system) of the raw log's I/O thread, writes included (Linux; null elsewhere): for benchmarks. */
  rawLogIoCpuS?: number | null;
}

export interface RecorderProgress {
  elapsedS: number;
  durationS: number;
  rawSamples: number;
  samplesPerS: number;
  gaps: number;
  framesRejected: number;
  clipped: number;
  rawLogBytes: number;
  /** Latest value per signal channel (NaN before the first). */
  levels: Array<{ name: string; last: number }>;
}

/** What a Recorder reports while it runs, in order (a CLI prints them; library code never does). */
export type RecorderEvent =
  | { type: 'disk-space-short'; diskSpace: DiskSpaceCheck; durationS: number; outDir: string }
  | { type: 'connected'; firmware: string; board: string; device: string }
  | { type: 'calibration-unreadable'; message: string }
  | { type: 'started'; outDir: string; durationS: number }
  | { type: 'progress'; progress: RecorderProgress }
  | { type: 'light'; light: RigLight; rateHz: number }
  | { type: 'stopping'; stoppedBy: StoppedBy }
  | { type: 'removed-unstarted'; outDir: string }
  | { type: 'marked-failed'; outDir: string }
  | { type: 'finished'; summary: RecordingSummary; error?: Error };

/** Where a Recorder is (for a live view's record state). */
export type RecorderState = 'idle' | 'connecting' | 'recording' | 'stopping' | 'finished';
