// One streaming pass over a recording: raw log -> JournalReplayer (the live
// Rig's frame decoder and assembler) -> SignalDemodulator -> sinks. Memory
// does not grow with the recording's length; sinks get blocks, gaps, signal
// blocks and events in the order the live Rig produced them.
import type { AcquisitionConfigInit, DeviceInfo } from '../../protocol/index.ts';
import { ClockFit } from '../dsp/clock.ts';
import type { HeartbeatSample } from '../link/link.ts';
import { type DemodOptions, type SignalBlock, type SignalChannel, SignalDemodulator } from '../pipeline/demodulate.ts';
import type { AcquisitionItem, TimedDigitalEvent, TimedLedEvent } from '../rig/assembler.ts';
import { JournalReplayer } from '../rig/journal.ts';
import { digitalEventTimeS, qualitySpanOf, type Timebase, trimItem, trimSignalBlock } from './derived.ts';
import { RecordError } from './errors.ts';
import { type DamagedSpan, MAX_LISTED_DAMAGED_SPANS, type RawLogHeader, RawLogReader, type RawLogReadStats } from './rawlog.ts';
import { LogRecovery } from './recovery.ts';
import { type ProcessingSettings, readSession, resolveRecording, type SessionFile, type SessionGap, type SessionQualitySpan } from './session.ts';

export interface ReplayContext {
  dir: string;
  rawLogPath: string;
  header: RawLogHeader;
  session: SessionFile | null;
  /** Merged meta records seen before the data began. */
  meta: Record<string, unknown>;
  config: AcquisitionConfigInit;
  info: DeviceInfo;
  timebase: Timebase;
  /** The demodulator's streams (channels and rates), when demodulating. */
  signalChannels: readonly SignalChannel[];
  signalRateHz: number;
  auxChannels: readonly SignalChannel[];
  auxOutputRateHz: number;
  /** Detector and aux input ids in block interleave order (from the configuration). */
  detectorIds: number[];
  auxIds: number[];
  /** Host time (µs) when Start was sent: a fallback for the time of session index 0. */
  startHostTimeUs: number;
  /** Data at or after this session time is not delivered. */
  cutoffS: number | undefined;
  demodOptions: DemodOptions | undefined;
}

/**
 * A damaged span of the raw log and what it cost. `lostDetectorSamples`: the
 * detector samples the assembler found missing after the span, up to the
 * first detector block placed after it (or the end of the acquisition) — the
 * samples of the frames that touched the damaged records. An upper bound: a
 * device-side loss in the same stretch is counted too. `openEnded`: nothing
 * after the span told how many samples were taken (no detector block, no
 * Stop Ack: the end of the log was damaged), so the cost counts only what
 * was found (a lower bound).
 */
export interface DamagedSpanCost extends DamagedSpan {
  lostDetectorSamples: number;
  openEnded: boolean;
}

export interface ReplayDamage {
  /** Damaged spans (first `MAX_LISTED_DAMAGED_SPANS`) with what each cost. */
  spans: DamagedSpanCost[];
  spanCount: number;
  bytes: number;
  lostDetectorSamples: number;
  headerMissing: boolean;
  /** What replay took from a redundant copy or inferred, and from where. */
  recovered: string[];
}

export interface ReplaySummary {
  rawLog: RawLogReadStats;
  damage: ReplayDamage;
  detectorSamples: number;
  auxSamples: number;
  /** Session index after the last detector / aux sample delivered. */
  detectorEnd: number;
  auxEnd: number;
  gaps: SessionGap[];
  gapCount: number;
  missingDetectorSamples: number;
  /** Spans flagged because every configured LED was dark (signals NaN there). */
  quality: SessionQualitySpan[];
  digitalEvents: number;
  ledEvents: number;
  heartbeats: number;
  /** Host clock of session index 0 and drift, fitted from heartbeats of the first segment. */
  clock: { offsetUs: number; driftPpm: number; observations: number } | null;
  /** Drift fitted per segment (each segment's heartbeats against its own device index: no cross-segment mix). */
  clockSegments: ClockSegment[];
  /** Acquisitions after the first one in the same log (not delivered). */
  ignoredAcquisitions: number;
  segments: number;
}

export interface ClockSegment {
  segment: number;
  driftPpm: number;
  /** 1-sigma standard error of driftPpm (see ClockModel.driftStdErrPpm) */
  driftStdErrPpm: number;
  observations: number;
  rmsResidualUs: number;
}

export interface ReplaySink {
  begin?(ctx: ReplayContext): void | Promise<void>;
  item?(item: AcquisitionItem): void;
  signals?(block: SignalBlock): void;
  digital?(event: TimedDigitalEvent): void;
  led?(event: TimedLedEvent): void;
  /** A flagged span closed (every configured LED dark): its samples are in `item`, its signals NaN. */
  quality?(span: SessionQualitySpan): void;
  heartbeat?(sample: HeartbeatSample): void;
  end?(summary: ReplaySummary, ctx: ReplayContext | undefined): void | Promise<void>;
}

export interface ReplayOptions {
  /** Demodulate, with these settings over the recording's own (default); false: deliver raw data only. */
  demod?: DemodOptions | false;
  /** Override the recording's cutoff (session.json end.cutoffS); null: deliver everything. */
  cutoffS?: number | null;
  onProgress?: (position: number, total: number) => void;
  /** Gaps kept in the summary list (all are counted). Default 100 000. */
  maxGapList?: number;
}

/** A stand-in header when the raw log's header and every copy of it are lost. */
function headerOfSession(session: SessionFile | null): RawLogHeader {
  return {
    magic: '', formatVersion: 0, fiberrigVersion: session?.software.fiberrig ?? 'unknown',
    hostStartTimeUs: session?.start.hostTimeUs ?? 0, hostStartIso: session?.start.iso ?? '',
  };
}

/** The recording's processing settings: session.json, else the raw log's meta record. */
export function processingOf(session: SessionFile | null, meta: Record<string, unknown>): ProcessingSettings {
  const fromMeta = (meta.processing ?? {}) as ProcessingSettings;
  return { ...fromMeta, ...(session?.processing ?? {}) };
}

/** The demodulation settings of a recording's processing settings with `overrides` applied (only the fields demodulation reads). */
export function demodOptionsOf(processing: ProcessingSettings, overrides: DemodOptions): DemodOptions {
  const merged: DemodOptions = {};
  const outputRateHz = overrides.outputRateHz ?? processing.outputRateHz;
  const lowpassHz = overrides.lowpassHz ?? processing.lowpassHz;
  const auxOutputRateHz = overrides.auxOutputRateHz ?? processing.auxOutputRateHz;
  if (outputRateHz !== undefined) merged.outputRateHz = outputRateHz;
  if (lowpassHz !== undefined) merged.lowpassHz = lowpassHz;
  if (auxOutputRateHz !== undefined) merged.auxOutputRateHz = auxOutputRateHz;
  return merged;
}

/**
 * Replays the recording at `path` (a directory or its raw log) into `sinks`,
 * in one streaming pass. Resolves with what was seen.
 */
export async function replayRecording(path: string, sinks: ReplaySink[], options: ReplayOptions = {}): Promise<ReplaySummary> {
  const paths = await resolveRecording(path);
  const session = await readSession(paths.dir);
  const damage: ReplayDamage = { spans: [], spanCount: 0, bytes: 0, lostDetectorSamples: 0, headerMissing: false, recovered: [] };
  // the span whose cost is being counted, and the end of the latest span not yet read ahead from
  let openSpan: DamagedSpanCost | undefined;
  let readAheadFrom: number | undefined;
  const reader = await RawLogReader.open(paths.rawLog, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onDamage: (span) => {
      damage.spanCount++;
      damage.bytes += span.endByte - span.startByte;
      openSpan = { ...span, lostDetectorSamples: 0, openEnded: false };
      if (damage.spans.length < MAX_LISTED_DAMAGED_SPANS) damage.spans.push(openSpan);
      readAheadFrom = span.endByte;
    },
  });
  const recovery = new LogRecovery(session);
  const replayer = new JournalReplayer(recovery);
  const maxGapList = options.maxGapList ?? 100_000;
  const summary: ReplaySummary = {
    rawLog: reader.stats, damage, detectorSamples: 0, auxSamples: 0, detectorEnd: 0, auxEnd: 0, gaps: [], gapCount: 0, missingDetectorSamples: 0, quality: [],
    digitalEvents: 0, ledEvents: 0, heartbeats: 0, clock: null, clockSegments: [], ignoredAcquisitions: 0, segments: 0,
  };

  let header: RawLogHeader | undefined;
  const meta: Record<string, unknown> = {};
  let info: DeviceInfo | undefined;
  let config: AcquisitionConfigInit | undefined;
  let startHostTimeUs = 0;
  let ctx: ReplayContext | undefined;
  let demod: SignalDemodulator | undefined;
  let done = false; // a second acquisition began: stop delivering
  let segment = 0;
  let clock: ClockFit | undefined;
  const segmentClocks = new Map<number, ClockFit>();
  const cutoffS = options.cutoffS === null ? undefined : (options.cutoffS ?? session?.end?.cutoffS ?? undefined);

  const begin = async (): Promise<ReplayContext> => {
    header ??= recovery.header();
    if (!header) {
      header = headerOfSession(session);
      recovery.note('header lost with every copy: version and start time from session.json');
    }
    info ??= recovery.deviceInfo();
    config ??= recovery.config();
    if (!startHostTimeUs) startHostTimeUs = recovery.firstStartHostTimeUs() ?? 0;
    if (!info || !config) {
      throw new RecordError('E_RECORDING_INCOMPLETE', 'the raw log holds samples before any device info or configuration', 'the recording is damaged at its start; nothing can be placed in time');
    }
    const rateHz = config.sampleRateHz ?? 0;
    const timebase: Timebase = { rateHz, auxRateHz: config.aux?.rateHz ?? 0, timerHz: info.timerClockHz || 1 };
    let demodOptions: DemodOptions | undefined;
    if (options.demod !== false) {
      demodOptions = demodOptionsOf(processingOf(session, meta), options.demod ?? {});
      demod = new SignalDemodulator(config, info, demodOptions);
    }
    clock = rateHz > 0 ? new ClockFit({ deviceTicksHz: rateHz }) : undefined;
    const c: ReplayContext = {
      dir: paths.dir, rawLogPath: paths.rawLog, header, session, meta, config, info, timebase,
      signalChannels: demod?.signalStage.channels ?? [], signalRateHz: demod?.signalStage.rateHz ?? 0,
      auxChannels: demod?.auxStage?.channels ?? [], auxOutputRateHz: demod?.auxStage?.rateHz ?? 0,
      detectorIds: [...(config.detectorIds ?? [])], auxIds: [...(config.aux?.inputIds ?? [])],
      startHostTimeUs, cutoffS, demodOptions,
    };
    for (const s of sinks) await s.begin?.(c);
    return c;
  };

  const deliverItem = (item: AcquisitionItem, c: ReplayContext): void => {
    const rate = item.source === 'aux' ? c.timebase.auxRateHz : c.timebase.rateHz;
    if (openSpan && item.source === 'detector') {
      if (item.kind === 'gap' && item.reason === 'missing-blocks' && !item.estimated) {
        openSpan.lostDetectorSamples += item.count;
        damage.lostDetectorSamples += item.count;
      } else if (item.kind === 'block') {
        openSpan = undefined;
      }
    }
    if (item.kind === 'block' && item.source === 'detector' && item.segment === 0 && summary.segments === 0 && item.sessionIndex < summary.detectorEnd) {
      // the session timeline restarted at 0: a second acquisition in the same log
      done = true;
      summary.ignoredAcquisitions++;
      return;
    }
    segment = Math.max(segment, item.segment);
    summary.segments = Math.max(summary.segments, item.segment);
    const out = trimItem(item, cutoffS, rate);
    // demodulation sees every item (its output is trimmed by time), as live
    if (demod) {
      for (const b of demod.push(item)) {
        const block = trimSignalBlock(b, cutoffS);
        if (block) for (const s of sinks) s.signals?.(block);
      }
    }
    if (!out) return;
    if (out.kind === 'light') {
      const span = qualitySpanOf(out, c.timebase.rateHz, cutoffS);
      if (span) {
        summary.quality.push(span);
        for (const s of sinks) s.quality?.(span);
      }
    } else if (out.kind === 'gap') {
      summary.gapCount++;
      if (out.source === 'detector') summary.missingDetectorSamples += out.count;
      if (summary.gaps.length < maxGapList) {
        summary.gaps.push({ source: out.source, sessionIndex: out.sessionIndex, count: out.count, startS: out.sessionIndex / rate, durationS: out.count / rate, reason: out.reason, estimated: out.estimated, uncertaintySamples: out.uncertaintySamples });
      }
    } else if (out.source === 'detector') {
      summary.detectorSamples += out.sampleCount;
      summary.detectorEnd = out.sessionIndex + out.sampleCount;
    } else {
      summary.auxSamples += out.sampleCount;
      summary.auxEnd = out.sessionIndex + out.sampleCount;
    }
    for (const s of sinks) s.item?.(out);
  };

  for await (const record of reader.records()) {
    if (readAheadFrom !== undefined) {
      await recovery.damageEndsAt(paths.rawLog, readAheadFrom);
      replayer.breakStream();
      readAheadFrom = undefined;
    }
    if (reader.stats.headerMissing) recovery.damaged = true;
    if (record.kind === 'header') { header = record.header; continue; }
    if (record.kind === 'meta') { if (!ctx) Object.assign(meta, record.meta); continue; }
    if (record.kind === 'end') continue;
    if (record.kind === 'checkpoint') { recovery.last = record.checkpoint; continue; }
    const entry = record.entry;
    recovery.nowUs = entry.hostTimeUs;
    if (entry.type === 'device-info' && !ctx) info = entry.info;
    if (entry.type === 'intent') {
      if (entry.intent.command === 'configure' && !ctx) config = entry.intent.config;
      if (entry.intent.command === 'start' && !entry.intent.resume && !ctx) startHostTimeUs = entry.hostTimeUs;
    }
    if (entry.type === 'heartbeat') {
      summary.heartbeats++;
      if (ctx && !done) {
        for (const s of sinks) s.heartbeat?.(entry.sample);
        const rateHz = ctx.timebase.rateHz;
        if (rateHz > 0 && entry.sample.running && entry.sample.deviceSampleIndex > 0) {
          // the segment whose run answered: the replayer has applied every Start Ack received before this heartbeat's
          const seg = replayer.segment;
          let fit = segmentClocks.get(seg);
          if (!fit) segmentClocks.set(seg, (fit = seg === 0 && clock ? clock : new ClockFit({ deviceTicksHz: rateHz })));
          fit.add({ deviceTicks: entry.sample.deviceSampleIndex, hostSendUs: entry.sample.hostSendUs, hostRecvUs: entry.sample.hostReceiveUs, deviceQueuedUs: entry.sample.replyQueuedUs });
        }
      }
    }
    const outputs = replayer.push(entry);
    if (done) continue;
    for (const o of outputs) {
      if (done) break;
      ctx ??= await begin();
      if (o.kind === 'item') deliverItem(o.item, ctx);
      else if (o.kind === 'digital') {
        if (cutoffS !== undefined && digitalEventTimeS(o.event, ctx.timebase) >= cutoffS) continue;
        summary.digitalEvents++;
        for (const s of sinks) s.digital?.(o.event);
      } else {
        const t = o.event.sessionIndex / ctx.timebase.rateHz;
        if (cutoffS !== undefined && t >= cutoffS) continue;
        summary.ledEvents++;
        for (const s of sinks) s.led?.(o.event);
      }
    }
  }
  damage.headerMissing = reader.stats.headerMissing;
  if (openSpan && openSpan.lostDetectorSamples === 0) openSpan.openEnded = true;
  damage.recovered = recovery.recovered;
  if (clock) {
    try {
      if (clock.observationCount >= 2) summary.clock = { offsetUs: clock.offsetUs, driftPpm: clock.driftPpm, observations: clock.observationCount };
    } catch {
      summary.clock = null;
    }
  }
  for (const [seg, fit] of [...segmentClocks].sort((a, b) => a[0] - b[0])) {
    const model = fit.fit;
    if (model) summary.clockSegments.push({ segment: seg, driftPpm: model.driftPpm, driftStdErrPpm: model.driftStdErrPpm, observations: fit.observationCount, rmsResidualUs: model.rmsResidualUs });
  }
  for (const s of sinks) await s.end?.(summary, ctx);
  return summary;
}
