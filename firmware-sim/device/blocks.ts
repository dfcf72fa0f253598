// Sample blocks: the modulation schedule drives the LEDs, the World renders
// what the detectors and aux inputs see, and the result is packed, encoded
// and queued into the ring buffer (or dropped and counted when it is full),
// together with the DigitalEvents of the edges during the block.
//
// Samples are raw ADC codes, clamped to the ADC's range: detector blocks are
// UINT16_LE (unipolar photodetector codes, 0 V = 0), aux blocks INT16_LE
// (bipolar EEG/EMG, 0 uV = 0), as the board definition says; channel_ids are
// the configured ids in configuration order. Aux blocks hold aux.block_samples
// samples per channel (block_samples when that is 0).
//
// Blocks wait in the ring buffer (board.bufferBlocks); when it is full a new
// block is dropped and counted (Status.blocks_dropped / samples_dropped) while
// the sample index keeps counting, so the host sees the gap.
//
// Ground truth: every drive applied while rendering is recorded in
// truth.drives (noteDrives / noteDark), from the samples, not from the
// LedEvents sent. Buffers are preallocated: producing a block allocates only
// its frame (carved from a slab by block-frame.ts, which encodes the Envelope,
// CRC and COBS in one pass).
import { Edge, LogLevel, SampleFormat, SampleSource } from '../../protocol/index.ts';
import type { AuxRenderRequest, DetectorRenderRequest } from '../world/world.ts';
import { type BlockFields, BlockFramer } from './block-frame.ts';
import { type BoardDefinition, codeRange } from './board.ts';
import { type DeviceCore, log } from './core.ts';
import type { AppliedDrive, LostRange } from './faults.ts';
import type { NormalizedConfig } from './validate.ts';

export interface LoopbackWire {
  /** Output line driven by the sync output (default: the configured sync_out line). */
  fromLine?: number;
  /** Input line the wire goes to. */
  toLine: number;
  /** Propagation delay, timer ticks (default 0). */
  delayTicks?: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Channel `ch` of an interleaved block of `nc` channels: src[0, count) clamped to [min, max] into dst[ch], dst[ch + nc], ... */
function packU16(src: Int32Array, dst: Uint16Array, count: number, ch: number, nc: number, min: number, max: number): void {
  for (let i = 0, j = ch; i < count; i++, j += nc) {
    const v = src[i]!;
    dst[j] = v < min ? min : v > max ? max : v;
  }
}

/** As packU16, for signed codes. */
function packI16(src: Int32Array, dst: Int16Array, count: number, ch: number, nc: number, min: number, max: number): void {
  for (let i = 0, j = ch; i < count; i++, j += nc) {
    const v = src[i]!;
    dst[j] = v < min ? min : v > max ? max : v;
  }
}

/**
 * Two channels interleaved at once, each sample pair as one 32-bit store (little-endian: channel a in the low half):
 * a and b clamped to [minA, maxA] and [minB, maxB] into dst[0, count). The same bytes as packU16 / packI16 per channel.
 * A code is in range when (code - min) >>> 0 <= max - min: one compare on the usual path instead of two.
 */
function packPair(a: Int32Array, b: Int32Array, dst: Int32Array, count: number, minA: number, maxA: number, minB: number, maxB: number): void {
  const spanA = (maxA - minA) >>> 0;
  const spanB = (maxB - minB) >>> 0;
  for (let i = 0; i < count; i++) {
    let x = a[i]!;
    let y = b[i]!;
    if ((x - minA) >>> 0 > spanA) x = x < minA ? minA : maxA;
    if ((y - minB) >>> 0 > spanB) y = y < minB ? minB : maxB;
    dst[i] = (x & 0xffff) | (y << 16);
  }
}

/** Clamp bounds of each board input's codes, by board index. */
interface ClampRanges {
  min: Int32Array;
  max: Int32Array;
}

/**
 * The ranges as int32 arrays: 2 ** bits - 1 is held as a double in an object field, and doubles as the clamp bounds
 * make the packing loops compare and select in floating point.
 */
function clampRanges(ranges: ReadonlyArray<{ min: number; max: number }>): ClampRanges {
  return { min: Int32Array.from(ranges, (r) => r.min), max: Int32Array.from(ranges, (r) => r.max) };
}

export class BlockProducer {
  private readonly ledBufs: Float32Array[];
  private cfgLedViews: Float32Array[] = [];
  private readonly detOut: Int32Array[];
  private readonly auxOut: Int32Array[];
  private readonly packBuffer: ArrayBuffer;
  private readonly packU16: Uint16Array;
  private readonly packI16: Int16Array;
  private readonly packPairs: Int32Array;
  private readonly packView: DataView;
  private readonly packBytes: Uint8Array;
  private readonly detRequest: DetectorRenderRequest;
  private readonly auxRequest: AuxRenderRequest;
  /** Clamp range of each board detector / aux input's codes, by board index. */
  private readonly detRange: ClampRanges;
  private readonly auxRange: ClampRanges;
  private readonly framer: BlockFramer;
  /** The fields of the block being framed, rewritten per block (the framer reads them and keeps none). */
  private readonly blockFields: BlockFields = {
    configId: 0, source: 0, firstSampleIndex: 0, sampleCount: 0, channelIds: [], format: 0, samples: new Uint8Array(0), samplesBytes: 0,
  };
  /** captureEdges' edges of one block, emptied per block (each is sent as a copy). */
  private readonly edgeEvents: Array<{ line: number; rising: boolean; n: number; ticks: number }> = [];

  constructor(
    private readonly core: DeviceCore,
    board: BoardDefinition,
    private readonly loopback: LoopbackWire | null,
  ) {
    const max = board.maxBlockSamples;
    this.ledBufs = board.leds.map(() => new Float32Array(max));
    this.detOut = board.detectors.map(() => new Int32Array(max));
    this.auxOut = board.auxInputs.map(() => new Int32Array(max));
    this.packBuffer = new ArrayBuffer(Math.max(2, max * Math.max(board.detectors.length, board.auxInputs.length) * 2));
    this.packU16 = new Uint16Array(this.packBuffer);
    this.packI16 = new Int16Array(this.packBuffer);
    this.packPairs = new Int32Array(this.packBuffer, 0, this.packBuffer.byteLength >> 2);
    this.packView = new DataView(this.packBuffer);
    this.packBytes = new Uint8Array(this.packBuffer);
    this.detRequest = { t0S: 0, dtS: 0, count: 0, ledCurrentMa: this.ledBufs, oversampling: 1, out: this.detOut };
    this.auxRequest = { t0S: 0, dtS: 0, count: 0, out: this.auxOut };
    this.detRange = clampRanges(board.detectors.map((d) => codeRange(board.detectorFormat, d.adcBits)));
    this.auxRange = clampRanges(board.auxInputs.map((a) => codeRange(board.auxFormat, a.adcBits)));
    this.framer = new BlockFramer(board.maxMessageBytes);
  }

  /** A new configuration: its LEDs' buffers and oversampling. */
  configure(c: NormalizedConfig): void {
    this.cfgLedViews = c.leds.map((l) => this.ledBufs[l.boardIndex]!);
    for (const b of this.ledBufs) b.fill(0);
    this.detRequest.oversampling = c.oversampling;
  }

  /** Fills the per-LED current buffers for detector samples [first, first + count). */
  private fillSchedule(first: number, count: number): void {
    const schedule = this.core.session.schedule;
    const run = this.core.run;
    if (!schedule || this.cfgLedViews.length === 0) return;
    while (run.changes.length > 0 && run.changes[0]!.at <= first) run.peaks = run.changes.shift()!.peaks;
    if (first === 0) this.noteDrives(0, run.peaks, 'start');
    this.noteDrives(first, run.peaks, 'change');
    let cur = first;
    const end = first + count;
    let i = 0;
    while (i < run.changes.length && run.changes[i]!.at < end) {
      const ch = run.changes[i]!;
      if (ch.at > cur) schedule.fill(cur, ch.at - cur, this.cfgLedViews, run.peaks, cur - first);
      run.peaks = ch.peaks;
      cur = ch.at;
      this.noteDrives(cur, run.peaks, 'change');
      i++;
    }
    if (i > 0) run.changes.splice(0, i);
    if (end > cur) schedule.fill(cur, end - cur, this.cfgLedViews, run.peaks, cur - first);
  }

  /** Ground truth: every LED lit in this run goes dark from sample `at` (Stop, reset). */
  noteDark(at: number, cause: 'stop' | 'reset'): void {
    const { session, run, truth } = this.core;
    const c = session.config;
    if (!c) return;
    for (let k = 0; k < run.appliedMa.length; k++) {
      const ma = run.appliedMa[k]!;
      if (ma === 0 || Number.isNaN(ma)) continue;
      run.appliedMa[k] = 0;
      truth.drives.push({ run: run.number, configId: session.configId, sampleIndex: at, channel: c.leds[k]!.channel, currentMa: 0, cause });
    }
  }

  /** Ground truth: the LEDs whose drive from sample `at` of this run differs from what they were driven with. */
  private noteDrives(at: number, peaks: Float64Array, cause: AppliedDrive['cause']): void {
    const { session, run, truth } = this.core;
    const c = session.config;
    if (!c) return;
    if (cause === 'start') run.appliedMa = new Float64Array(c.leds.length).fill(Number.NaN);
    for (let k = 0; k < c.leds.length; k++) {
      const ma = peaks[k] ?? 0;
      if (run.appliedMa[k] === ma) continue;
      run.appliedMa[k] = ma;
      truth.drives.push({ run: run.number, configId: session.configId, sampleIndex: at, channel: c.leds[k]!.channel, currentMa: ma, cause });
    }
  }

  /** Whether the next block goes into the ring buffer; counts and records drops. */
  private admitBlock(source: 'detector' | 'aux', first: number, count: number): boolean {
    const { session, run, truth, uplink, clock, board } = this.core;
    const forced = session.forcedDrops > 0;
    if (!forced && uplink.bufferedBlocks < board.bufferBlocks) {
      run.overrunRecord = null;
      return true;
    }
    const lost: LostRange = { source, run: run.number, configId: session.configId, first, count };
    run.blocksDropped++;
    if (source === 'detector') run.samplesDropped += count;
    if (forced) {
      session.forcedDrops--;
      session.forcedRecord?.lost.push(lost);
      if (session.forcedRecord) session.forcedRecord.framesAffected++;
      if (session.forcedDrops === 0) session.forcedRecord = null;
    } else {
      if (!run.overrunRecord) {
        run.overrunRecord = truth.record({
          type: 'buffer_overrun', worldTimeS: clock.worldS, deviceTimeUs: clock.deviceTimeUs, lost: [], lostMessages: [], bytesAffected: 0, framesAffected: 0,
          detail: uplink.linkDown ? 'ring buffer full: link down' : 'ring buffer full: link too slow or host not reading',
        });
        log(this.core, LogLevel.LOG_LEVEL_WARN, `ring buffer overrun at ${source} sample ${first}`);
      }
      run.overrunRecord.lost.push(lost);
      run.overrunRecord.framesAffected++;
    }
    return false;
  }

  /** Renders, packs and queues detector samples [first, first + count) of the current run. */
  produceDetectorBlock(first: number, count: number): void {
    const { run, clock, board } = this.core;
    const c = run.config!;
    const fs = c.sampleRateHz;
    this.fillSchedule(first, count);
    const t0Dev = run.startDevS + first / fs;
    const seg = clock.segFor(t0Dev);
    const req = this.detRequest;
    req.t0S = clock.worldOf(t0Dev);
    req.dtS = 1 / (fs * seg.rate);
    req.count = count;
    this.core.world.renderDetectors(req);
    this.core.truth.blocksProduced.detector++;

    if (c.digitalInputIds.length > 0) this.captureEdges(first, count, req.t0S, req.dtS, seg.rate);
    if (!this.admitBlock('detector', first, count)) return;

    const nc = c.detectorIds.length;
    const format = board.detectorFormat;
    this.packChannels(this.detOut, c.detectorBoardIndex, this.detRange, count, format === SampleFormat.SAMPLE_FORMAT_UINT16_LE);
    this.queueBlock(SampleSource.SAMPLE_SOURCE_DETECTOR, 'detector', first, count, c.detectorIds, format, count * nc * 2);
  }

  /** Renders, packs and queues aux samples [first, first + count) of the current run. */
  produceAuxBlock(first: number, count: number): void {
    const { run, clock, board } = this.core;
    const c = run.config!;
    const aux = c.aux!;
    const fs = c.sampleRateHz;
    // Render in pieces of constant sample period (a drift change may fall inside an aux block).
    let k = first;
    const end = first + count;
    const req = this.auxRequest;
    const outs = this.auxOut;
    while (k < end) {
      const tDev = run.startDevS + (k * aux.divider) / fs;
      const seg = clock.segFor(tDev);
      const nextSeg = clock.segAfter(tDev);
      let kEnd = end;
      if (nextSeg) kEnd = Math.min(end, Math.max(k + 1, Math.ceil(((nextSeg.devS - run.startDevS) * fs) / aux.divider - 1e-6)));
      req.t0S = clock.worldOf(tDev);
      req.dtS = aux.divider / (fs * seg.rate);
      req.count = kEnd - k;
      if (k === first) {
        req.out = outs;
      } else {
        req.out = outs.map((o) => o.subarray(k - first));
      }
      this.core.world.renderAux(req);
      k = kEnd;
    }
    req.out = outs;
    this.core.truth.blocksProduced.aux++;
    if (!this.admitBlock('aux', first, count)) return;
    const nc = aux.inputIds.length;
    const format = board.auxFormat;
    this.packChannels(outs, aux.boardIndex, this.auxRange, count, format === SampleFormat.SAMPLE_FORMAT_UINT16_LE);
    this.queueBlock(SampleSource.SAMPLE_SOURCE_AUX, 'aux', first, count, aux.inputIds, format, count * nc * 2);
  }

  /** Packs the configured channels (board indices `boardIndex`, in configuration order) of `outs`, interleaved, into the pack buffer. */
  private packChannels(outs: Int32Array[], boardIndex: readonly number[], ranges: ClampRanges, count: number, unsigned: boolean): void {
    const nc = boardIndex.length;
    const { min, max } = ranges;
    if (LITTLE_ENDIAN && nc === 2) {
      const a = boardIndex[0]!;
      const b = boardIndex[1]!;
      packPair(outs[a]!, outs[b]!, this.packPairs, count, min[a]!, max[a]!, min[b]!, max[b]!);
      return;
    }
    for (let ch = 0; ch < nc; ch++) {
      const bi = boardIndex[ch]!;
      this.pack(outs[bi]!, count, ch, nc, min[bi]!, max[bi]!, unsigned);
    }
  }

  private pack(src: Int32Array, count: number, ch: number, nc: number, min: number, max: number, unsigned: boolean): void {
    if (LITTLE_ENDIAN) {
      // one loop per array type: each element store stays monomorphic
      if (unsigned) packU16(src, this.packU16, count, ch, nc, min, max);
      else packI16(src, this.packI16, count, ch, nc, min, max);
      return;
    }
    const view = this.packView;
    for (let i = 0, j = ch; i < count; i++, j += nc) {
      const v = src[i]!;
      const clamped = Math.min(max, Math.max(min, v));
      if (unsigned) view.setUint16(j * 2, clamped, true);
      else view.setInt16(j * 2, clamped, true);
    }
  }

  private queueBlock(source: number, name: 'detector' | 'aux', first: number, count: number, channelIds: number[], format: number, bytes: number): void {
    const configId = this.core.session.configId;
    const f = this.blockFields;
    f.configId = configId;
    f.source = source;
    f.firstSampleIndex = first;
    f.sampleCount = count;
    f.channelIds = channelIds;
    f.format = format;
    f.samples = this.packBytes;
    f.samplesBytes = bytes;
    const frame = this.framer.frame(f);
    this.core.uplink.pushBlock(frame, { kind: 'sampleBlock', requestId: 0, source: name, run: this.core.run.number, configId, firstSampleIndex: first, sampleCount: count });
  }

  /** DigitalEvents for edges during detector samples [first, first + count). */
  private captureEdges(first: number, count: number, t0W: number, dtW: number, rate: number): void {
    const { run, board } = this.core;
    const c = run.config!;
    const fs = c.sampleRateHz;
    const ticksPerSample = board.timerClockHz / fs;
    const events = this.edgeEvents;
    events.length = 0;
    const edges = this.core.world.digitalEdges(t0W, t0W + count * dtW);
    for (let i = 0; i < edges.length; i++) {
      const e = edges[i]!;
      if (!c.digitalInputIds.includes(e.lineId)) continue;
      const x = (e.tS - t0W) / dtW;
      let n = Math.floor(x + 1e-9);
      let ticks = Math.floor((x - n) * dtW * rate * board.timerClockHz + 1e-6);
      if (ticks < 0) ticks = 0;
      if (ticks >= ticksPerSample) {
        n++;
        ticks = 0;
      }
      events.push({ line: e.lineId, rising: e.rising, n: first + n, ticks });
    }
    const wire = this.loopback;
    const sync = c.syncOut;
    if (wire && sync && (wire.fromLine ?? sync.line) === sync.line && c.digitalInputIds.includes(wire.toLine)) {
      const delay = wire.delayTicks ?? 0;
      const dn = Math.floor(delay / ticksPerSample);
      const dt = delay - dn * ticksPerSample;
      const p0 = Math.floor((first - dn) / sync.periodSamples) - 1;
      for (let p = Math.max(0, p0); ; p++) {
        const rise = p * sync.periodSamples + dn;
        if (rise >= first + count) break;
        const fall = rise + sync.pulseSamples;
        if (rise >= first) events.push({ line: wire.toLine, rising: true, n: rise, ticks: dt });
        if (fall >= first && fall < first + count) events.push({ line: wire.toLine, rising: false, n: fall, ticks: dt });
      }
    }
    const tap = this.core.syncTap;
    if (tap) for (const e of tap.blockEdges(first, count)) events.push(e);
    if (events.length === 0) return;
    events.sort((a, b) => a.n - b.n || a.ticks - b.ticks);
    const configId = this.core.session.configId;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      this.core.uplink.send({
        requestId: 0,
        digitalEvent: { line: ev.line, edge: ev.rising ? Edge.EDGE_RISING : Edge.EDGE_FALLING, sampleIndex: ev.n, subsampleTicks: ev.ticks, configId },
      }, 'stream');
    }
  }
}
