// `inspectRecording`: what a recording holds, from one pass over its raw log
// (no demodulation) plus session.json: duration, channels, rates, gaps,
// counters, device and configuration.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModulationMode } from '../../protocol/index.ts';
import { SignalDemodulator } from '../pipeline/demodulate.ts';
import { type ReplayContext, type ReplayDamage, processingOf, type ReplaySummary, replayRecording } from './replay.ts';
import { FAILED_FILE_NAME } from './recording-end.ts';
import type { SessionGap, SessionQualitySpan } from './session.ts';

/**
 * The raw log's state: `clean` (every byte read as a record), `torn-tail` (a
 * crash left a partial last record: expected, nothing else lost) or `damaged`
 * (damaged spans or a lost header; see `damage`).
 */
export type RawLogStatus = 'clean' | 'torn-tail' | 'damaged';

export interface RecordingInspection {
  recording: string;
  rawLog: { path: string; bytes: number; records: number; tornTailBytes: number; corruptSpans: number; corruptBytes: number; closedCleanly: boolean };
  status: RawLogStatus;
  /** Damaged spans (byte range, detector samples each cost), what was recovered and from where. */
  damage: ReplayDamage;
  recordedWith: string;
  hostStart: string;
  subject: string | null;
  notes: string | null;
  stoppedBy: string | null;
  /** The acquisition failed (session.json status "failed", or a FAILED file): why; null otherwise. */
  failed: { error: string } | null;
  device: { url: string | null; firmware: string; board: string; serialNumber: string } | null;
  config: {
    mode: string;
    sampleRateHz: number;
    blockSamples: number;
    detectors: number[];
    leds: Array<{ channel: number; wavelengthNm: number | null; currentMa: number | null; powerUw: number | null; carrierHz: number | null }>;
    aux: { inputs: number[]; rateHz: number } | null;
    digitalInputs: number[];
  } | null;
  processing: Record<string, unknown>;
  channels: Array<{ name: string; stream: 'signals' | 'aux'; rateHz: number }>;
  /** Session time covered by detector samples (gaps included), s. */
  durationS: number;
  detectorSamples: number;
  auxSamples: number;
  gaps: { count: number; missingDetectorSamples: number; missingS: number; first: SessionGap[] };
  /** Flagged spans (samples present, signals NaN): every configured LED dark. */
  quality: { count: number; darkSpans: number; darkS: number; spans: SessionQualitySpan[] };
  events: { digital: number; led: number };
  heartbeats: number;
  /** Drift of the first segment, and of every segment on its own (a reconnect or reset starts a new run and fit). */
  clock: { driftPpm: number; observations: number; segments: Array<{ segment: number; driftPpm: number; driftStdErrPpm: number; observations: number; rmsResidualUs: number }> } | null;
  segments: number;
  ignoredAcquisitions: number;
  counters: Record<string, unknown> | null;
}

const MODES: Record<number, string> = {
  [ModulationMode.MODULATION_MODE_CONTINUOUS]: 'continuous',
  [ModulationMode.MODULATION_MODE_TIME_DIVISION]: 'time-division',
  [ModulationMode.MODULATION_MODE_LOCK_IN]: 'lock-in',
};

export async function inspectRecording(path: string, onProgress?: (position: number, total: number) => void): Promise<RecordingInspection> {
  let ctx: ReplayContext | undefined;
  let channels: RecordingInspection['channels'] = [];
  const summary: ReplaySummary = await replayRecording(path, [{
    begin: (c) => {
      ctx = c;
      try {
        const d = new SignalDemodulator(c.config, c.info, processingOf(c.session, c.meta));
        channels = d.stages.flatMap((s) => s.channels.map((ch) => ({ name: ch.name, stream: s.stream, rateHz: s.rateHz })));
      } catch {
        channels = [];
      }
    },
  }], { demod: false, cutoffS: null, maxGapList: 20, ...(onProgress ? { onProgress } : {}) });

  const session = ctx?.session ?? null;
  const failedMarker = ctx ? await readFile(join(ctx.dir, FAILED_FILE_NAME), 'utf8').then((t) => /^error: (.*)$/m.exec(t)?.[1] ?? t.trim(), () => null) : null;
  const rate = ctx?.timebase.rateHz ?? 0;
  const info = ctx?.info;
  const config = ctx?.config;
  return {
    recording: ctx?.dir ?? path,
    rawLog: {
      path: ctx?.rawLogPath ?? path, bytes: summary.rawLog.fileBytes, records: summary.rawLog.records, tornTailBytes: summary.rawLog.tornTailBytes,
      corruptSpans: summary.rawLog.corruptSpans, corruptBytes: summary.rawLog.corruptBytes, closedCleanly: summary.rawLog.cleanEnd,
    },
    status: summary.damage.spanCount > 0 || summary.damage.headerMissing ? 'damaged' : summary.rawLog.tornTailBytes > 0 ? 'torn-tail' : 'clean',
    damage: summary.damage,
    recordedWith: ctx ? `fiberrig ${ctx.header.fiberrigVersion}` : 'unknown',
    hostStart: ctx?.header.hostStartIso ?? '',
    subject: session?.subject ?? (ctx?.meta.subject as string | null | undefined) ?? null,
    notes: session?.notes ?? (ctx?.meta.notes as string | null | undefined) ?? null,
    stoppedBy: session?.end?.stoppedBy ?? (summary.rawLog.cleanEnd ? 'unknown' : 'crash (no end record)'),
    failed: session?.status === 'failed' || failedMarker !== null ? { error: session?.end?.error ?? failedMarker ?? 'unknown error' } : null,
    device: info ? { url: session?.device.url ?? (ctx?.meta.device as string | undefined) ?? null, firmware: `${info.firmwareName} ${info.firmwareVersion}`, board: info.boardModel, serialNumber: info.serialNumber } : null,
    config: config ? {
      mode: MODES[config.mode ?? 0] ?? `mode ${config.mode}`,
      sampleRateHz: config.sampleRateHz ?? 0,
      blockSamples: config.blockSamples ?? 0,
      detectors: [...(config.detectorIds ?? [])],
      leds: (config.leds ?? []).map((l) => ({
        channel: l.channel ?? 0, wavelengthNm: info?.leds.find((x) => x.id === (l.channel ?? 0))?.wavelengthNm ?? null,
        currentMa: l.currentMa ?? null, powerUw: l.powerUw ?? null, carrierHz: l.carrierHz ?? null,
      })),
      aux: config.aux?.inputIds?.length ? { inputs: [...config.aux.inputIds], rateHz: config.aux.rateHz ?? 0 } : null,
      digitalInputs: [...(config.digitalInputIds ?? [])],
    } : null,
    processing: { ...processingOf(session, ctx?.meta ?? {}) },
    channels,
    durationS: rate > 0 ? summary.detectorEnd / rate : 0,
    detectorSamples: summary.detectorSamples,
    auxSamples: summary.auxSamples,
    gaps: { count: summary.gapCount, missingDetectorSamples: summary.missingDetectorSamples, missingS: rate > 0 ? summary.missingDetectorSamples / rate : 0, first: summary.gaps },
    quality: {
      count: summary.quality.length, darkSpans: summary.quality.filter((q) => q.flag === 'leds-dark').length,
      darkS: summary.quality.reduce((sum, q) => sum + q.durationS, 0), spans: summary.quality,
    },
    events: { digital: summary.digitalEvents, led: summary.ledEvents },
    heartbeats: summary.heartbeats,
    clock: summary.clock ? { driftPpm: summary.clock.driftPpm, observations: summary.clock.observations, segments: summary.clockSegments } : null,
    segments: summary.segments + (summary.detectorSamples > 0 ? 1 : 0),
    ignoredAcquisitions: summary.ignoredAcquisitions,
    counters: (session?.counters as unknown as Record<string, unknown> | null) ?? null,
  };
}
