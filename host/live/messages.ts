// The live view's WebSocket messages (JSON text frames). The page
// (host/live/public/*.js) is written against these shapes.
import { z } from 'zod';
import type { SeriesChunk } from './display.ts';

export const WINDOWS_S = [10, 30, 60, 120, 300, 600] as const;
export const DEFAULT_WINDOW_S = 30;

export interface ChannelDescription {
  name: string;
  /** Detector or aux input id. */
  inputId: number;
  wavelengthNm?: number;
  ledChannel?: number;
  /** Label of the detector or aux input (e.g. PD0, EEG). */
  label: string;
}

export interface LedDescription {
  channel: number;
  wavelengthNm: number;
  /** The board's limit for this channel in the configured mode. */
  limitMa: number;
  /** Configured drive (mA), when the configuration gave one. */
  configuredMa?: number;
  /** Configured drive (µW), when the configuration gave one. */
  configuredUw?: number;
  calibrated: boolean;
  carrierHz?: number;
}

export interface Control {
  enabled: boolean;
  /** Why it is disabled. */
  reason?: string;
}

/** The live analysis (host/live/analysis.ts): what the ΔF/F trace and the sleep-state strip show. */
export interface AnalysisDescription {
  /** Corrected ΔF/F of one sensor channel (null: no sensor channel, 440–500 nm); the channels are chosen after warmupS (frame.dff names them). */
  dff: { rateHz: number; unit: string; warmupS: number } | null;
  /** Running sleep state per epoch (null: no EEG and EMG aux inputs). */
  sleep: { epochS: number; eeg: string; emg: string } | null;
}

/** Which channels and method the live ΔF/F uses. */
export interface DffSource {
  sensor: string;
  control: string | null;
  bloodVolume: string | null;
  method: 'isosbestic' | 'haemodynamic' | 'none';
}

export type LiveSleepStateName = 'wake' | 'nrem' | 'rem' | 'unknown';

export interface HelloMessage {
  type: 'hello';
  device: { url: string; firmware: string; board: string; serialNumber: string };
  mode: string;
  sampleRateHz: number;
  signals: { rateHz: number; unit: string; channels: ChannelDescription[] };
  aux: { rateHz: number; unit: string; channels: ChannelDescription[] } | null;
  raw: { rateHz: number; unit: string; channels: ChannelDescription[] };
  leds: LedDescription[];
  digitalLines: { id: number; label: string }[];
  controls: { acquisition: Control; leds: Control; recording: Control };
  windowsS: readonly number[];
  windowS: number;
  frameIntervalMs: number;
  analysis: AnalysisDescription;
}

export interface LiveEvent {
  seq: number;
  kind: 'digital' | 'led';
  /** Session time, seconds. */
  tS: number;
  line?: number;
  rising?: boolean;
  channel?: number;
  currentMa?: number;
  powerUw?: number;
}

export interface Warning {
  level: 'error' | 'warn';
  text: string;
}

export interface StatusView {
  running: boolean;
  connected: boolean;
  /** Host-side: is the Rig acquiring. */
  acquiring: boolean;
  configuredRateHz: number;
  /** Detector samples received per wall-clock second (sim speed shows here). */
  receivedRateHz: number;
  sessionS: number;
  bufferFillPct: number | null;
  blocksDropped: number;
  deviceDroppedSamples: number;
  hostMissingSamples: number;
  gaps: number;
  framesRejectedDevice: number;
  framesRejectedHost: number;
  heartbeatAgeMs: number | null;
  heartbeatRoundTripMs: number | null;
  darkReason: 'none' | 'stopped' | 'heartbeat-timeout' | 'fault' | 'unknown';
  temperatureC: number | null;
  /** Device clock against the host clock, ppm (positive: the device runs slow); null until fitted. */
  clockDriftPpm: number | null;
  reconnects: number;
  leds: { channel: number; currentMa: number; powerUw: number }[];
  /** Age of the last device Status, ms (null before the first). */
  statusAgeMs: number | null;
}

export interface RecordingView {
  recording: boolean;
  subject: string | null;
  target: string | null;
}

export interface FrameMessage {
  type: 'frame';
  seq: number;
  /** A new acquisition started: the page drops what it shows. */
  reset?: true;
  signals?: SeriesChunk;
  aux?: SeriesChunk;
  /** Corrected ΔF/F (%), causal: each point computed from the data that had arrived (hello.analysis.dff). */
  dff?: SeriesChunk & DffSource;
  /** Running sleep state of epochs firstEpoch … (epoch k spans k·epochS … (k+1)·epochS s of session time). */
  sleep?: { firstEpoch: number; epochS: number; states: LiveSleepStateName[] };
  /** Latest raw samples per detector, % of full scale, oldest first; tS: time of the last. */
  raw?: { tS: number; y: number[][] };
  events?: LiveEvent[];
  status: StatusView;
  warnings: Warning[];
  recording: RecordingView;
}

export interface ReplyMessage {
  type: 'reply';
  id: number;
  ok: boolean;
  error?: string;
}

export type ServerMessage = HelloMessage | FrameMessage | ReplyMessage;

const id = z.number().int().min(0).max(2 ** 31);

/** What the page may send. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('window'), seconds: z.number().min(1).max(3600) }).strict(),
  z.object({ type: z.literal('setLed'), id, channel: z.number().int().min(0), currentMa: z.number().min(0).max(10_000) }).strict(),
  z.object({ type: z.literal('start'), id }).strict(),
  z.object({ type: z.literal('stop'), id }).strict(),
  z.object({ type: z.literal('record'), id, on: z.boolean(), subject: z.string().max(200).optional() }).strict(),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
