// Faults the simulator can inject, and the ground-truth log that says exactly
// what each one did.
// One unit: the fault kinds, their parsing and checking, the byte stage that applies them and the record of what they lost change together whenever a fault kind is added.
//
// Kinds (FaultSpec.type):
//   corrupt        bit flips on outgoing bytes, probability `rate` per byte
//   corrupt_frames one bit flip in each of the next `count` frames (of `kind`)
//   drop_bytes     outgoing bytes lost, probability `rate` per byte
//   dup_bytes      outgoing bytes sent twice, probability `rate` per byte
//   disconnect     the link goes away for `durationS`: bytes handed to the
//                  transport but not yet read are lost, the device keeps
//                  running and stops draining (its ring buffer may overrun)
//   drift          the device crystal runs `ppm` fast (negative: slow) from the
//                  next detector block boundary on
//   overrun        the ring buffer drops the next `blocks` sample blocks
//   reset          the device resets (as a watchdog or brown-out reset would)
// The rate faults last `durationS` (default: forever). Every fault can be
// scheduled at a world time `atS` (seconds on the simulation's master clock,
// which equals device uptime at 0 ppm before any reset) or triggered now.
//
// Ground truth: each fault appends a FaultRecord. Byte faults append one
// record per damaged frame, naming the sample ranges whose blocks can no
// longer arrive intact: the damaged frame, and also the next frame when the
// damage hit a frame delimiter (dropped or flipped: the two frames merge).
// A duplicated delimiter only adds an empty frame and loses nothing.
// A CRC-32C collision (2^-32 per damaged frame) is not modelled.
import { SimError } from './errors.ts';

export type FaultType = 'corrupt' | 'corrupt_frames' | 'drop_bytes' | 'dup_bytes' | 'disconnect' | 'drift' | 'overrun' | 'reset';

export type FaultSpec =
  | { type: 'corrupt'; rate: number; durationS?: number; atS?: number }
  | { type: 'corrupt_frames'; count: number; kind?: 'sampleBlock' | 'any'; atS?: number }
  | { type: 'drop_bytes'; rate: number; durationS?: number; atS?: number }
  | { type: 'dup_bytes'; rate: number; durationS?: number; atS?: number }
  | { type: 'disconnect'; durationS: number; atS?: number }
  | { type: 'drift'; ppm: number; atS?: number }
  | { type: 'overrun'; blocks: number; atS?: number }
  | { type: 'reset'; atS?: number };

export type SampleSourceName = 'detector' | 'aux';

/** Samples of one run that never reached the host inside an intact block. */
export interface LostRange {
  source: SampleSourceName;
  /** Device run (counts Starts since the simulation began; never reset). */
  run: number;
  configId: number;
  first: number;
  count: number;
}

/**
 * Fault kinds plus what else loses data: buffer_overrun (ring buffer full),
 * port_closed (the host detached with unread bytes), commanded_reset (Reset or
 * EnterBootloader discarding queued output).
 */
export type FaultRecordType = FaultType | 'buffer_overrun' | 'port_closed' | 'commanded_reset';

export interface FaultRecord {
  type: FaultRecordType;
  /** World (master clock) time when the fault acted, seconds. */
  worldTimeS: number;
  deviceTimeUs: number;
  /** Samples whose blocks never reached the host intact because of this fault. */
  lost: LostRange[];
  /** Non-sample messages lost (e.g. "ack#5", "status"). */
  lostMessages: string[];
  /** Bytes flipped, dropped or duplicated; or bytes discarded by a disconnect. */
  bytesAffected: number;
  framesAffected: number;
  detail: string;
}

/** What the link knows about each outgoing frame. */
export interface FrameMeta {
  /** Envelope body name, e.g. "sampleBlock", "ack". */
  kind: string;
  requestId: number;
  source?: SampleSourceName;
  run?: number;
  configId?: number;
  firstSampleIndex?: number;
  sampleCount?: number;
}

export function describeFrame(meta: FrameMeta): string {
  return meta.requestId ? `${meta.kind}#${meta.requestId}` : meta.kind;
}

/** Deterministic PRNG (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Number of Bernoulli(p) failures before the next success (bytes until the next hit). */
  geometric(p: number): number {
    if (p >= 1) return 0;
    if (p <= 0) return Number.POSITIVE_INFINITY;
    return Math.floor(Math.log(1 - this.next()) / Math.log(1 - p));
  }
}

/**
 * An LED drive the device applied: the peak current of LED `channel` from
 * detector sample `sampleIndex` of run `run` on (what the rendered samples were
 * taken with, or where a Stop or a reset darkened the LED).
 */
export interface AppliedDrive {
  run: number;
  configId: number;
  sampleIndex: number;
  channel: number;
  currentMa: number;
  /** "start": sample 0 of a run; "change": SetLed or the watchdog; "stop" and "reset": darkened there. */
  cause: 'start' | 'change' | 'stop' | 'reset';
}

/** The simulation's ground truth: every fault and what it cost. */
export class GroundTruth {
  readonly faults: FaultRecord[] = [];
  /** Every LED drive applied while running, in order (from the rendered samples, not from the LedEvents sent). */
  readonly drives: AppliedDrive[] = [];
  /** Sample blocks produced by the device, per source. */
  readonly blocksProduced = { detector: 0, aux: 0 };
  /** Frames handed to the transport (after byte faults). */
  framesOut = 0;
  bytesOut = 0;

  record(r: FaultRecord): FaultRecord {
    this.faults.push(r);
    return r;
  }

  faultsOf(type: FaultRecordType): FaultRecord[] {
    return this.faults.filter((f) => f.type === type);
  }

  /** Union of all lost ranges of `source` (optionally of one run), sorted and merged. */
  lostRanges(source: SampleSourceName, run?: number): Array<{ run: number; first: number; count: number }> {
    const ranges = this.faults
      .flatMap((f) => f.lost)
      .filter((r) => r.source === source && (run === undefined || r.run === run))
      .sort((a, b) => a.run - b.run || a.first - b.first);
    const out: Array<{ run: number; first: number; count: number }> = [];
    for (const r of ranges) {
      const last = out[out.length - 1];
      if (last && last.run === r.run && r.first <= last.first + last.count) {
        last.count = Math.max(last.count, r.first + r.count - last.first);
      } else {
        out.push({ run: r.run, first: r.first, count: r.count });
      }
    }
    return out;
  }

  /** Number of distinct lost samples of `source` (optionally of one run). */
  lostSampleCount(source: SampleSourceName, run?: number): number {
    return this.lostRanges(source, run).reduce((a, r) => a + r.count, 0);
  }

  /** True when sample `index` of `run` was lost. */
  isLost(source: SampleSourceName, run: number, index: number): boolean {
    return this.lostRanges(source, run).some((r) => index >= r.first && index < r.first + r.count);
  }
}

export function lostRangeOf(meta: FrameMeta): LostRange | null {
  if (meta.kind !== 'sampleBlock' || meta.source === undefined) return null;
  return { source: meta.source, run: meta.run ?? 0, configId: meta.configId ?? 0, first: meta.firstSampleIndex ?? 0, count: meta.sampleCount ?? 0 };
}

interface RateFault {
  type: 'corrupt' | 'drop_bytes' | 'dup_bytes';
  rate: number;
  untilWorldS: number;
  /** Bytes to pass before the next hit. */
  gap: number;
}

interface Hit {
  pos: number;
  type: 'corrupt' | 'drop_bytes' | 'dup_bytes';
}

/**
 * Applies the active byte faults to each outgoing frame and records the
 * damage in the ground truth. Allocation-free for an undamaged frame.
 */
export class ByteFaultStage {
  private readonly rateFaults: RateFault[] = [];
  private frameFaults: { remaining: number; kind: 'sampleBlock' | 'any'; record: FaultRecord | null } | null = null;
  /** A record whose frame lost its delimiter: the next frame merges into it and is lost too. */
  private mergeInto: FaultRecord | null = null;
  private readonly hits: Hit[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly truth: GroundTruth,
  ) {}

  get active(): boolean {
    return this.rateFaults.length > 0 || this.frameFaults !== null || this.mergeInto !== null;
  }

  addRate(type: RateFault['type'], rate: number, untilWorldS: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new SimError('E_SIM_FAULT', `fault rate ${rate} is not a probability`, 'give a rate per byte in [0, 1], e.g. 1e-5');
    this.rateFaults.push({ type, rate, untilWorldS, gap: this.rng.geometric(rate) });
  }

  addFrameCorruption(count: number, kind: 'sampleBlock' | 'any'): void {
    this.frameFaults = { remaining: (this.frameFaults?.remaining ?? 0) + count, kind, record: null };
  }

  /** Frames discarded by a disconnect end any pending merge (the host resynchronizes on the new connection). */
  clearMerge(): void {
    this.mergeInto = null;
  }

  process(frame: Uint8Array, meta: FrameMeta, worldTimeS: number, deviceTimeUs: number): Uint8Array {
    if (!this.active) return frame;
    const len = frame.length;
    if (this.mergeInto) {
      const r = this.mergeInto;
      this.mergeInto = null;
      const lost = lostRangeOf(meta);
      if (lost) r.lost.push(lost);
      else r.lostMessages.push(describeFrame(meta));
      r.framesAffected++;
    }
    const hits = this.hits;
    hits.length = 0;
    for (let i = this.rateFaults.length - 1; i >= 0; i--) {
      const f = this.rateFaults[i]!;
      if (worldTimeS >= f.untilWorldS) {
        this.rateFaults.splice(i, 1);
        continue;
      }
      let pos = f.gap;
      while (pos < len) {
        hits.push({ pos, type: f.type });
        pos += 1 + this.rng.geometric(f.rate);
      }
      f.gap = pos - len;
    }
    let record: FaultRecord | null = null;
    const ff = this.frameFaults;
    if (ff && len > 1 && (ff.kind === 'any' || meta.kind === ff.kind)) {
      hits.push({ pos: this.rng.int(len - 1), type: 'corrupt' });
      ff.record ??= this.truth.record({
        type: 'corrupt_frames', worldTimeS, deviceTimeUs, lost: [], lostMessages: [], bytesAffected: 0, framesAffected: 0,
        detail: `one bit flip in each of the next ${ff.remaining} ${ff.kind === 'any' ? 'frames' : 'sample blocks'}`,
      });
      record = ff.record;
      if (--ff.remaining === 0) this.frameFaults = null;
    }
    if (hits.length === 0) return frame;
    hits.sort((a, b) => a.pos - b.pos);

    // At most one hit per byte: a later hit on a byte already damaged is ignored.
    const out: number[] = [];
    let next = 0;
    let applied = 0;
    let bodyDamaged = false;
    let delimiterLost = false;
    const types = new Set<Hit['type']>();
    for (const h of hits) {
      if (h.pos < next) continue;
      while (next < h.pos) out.push(frame[next++]!);
      const byte = frame[next++]!;
      const isDelimiter = h.pos === len - 1;
      applied++;
      types.add(h.type);
      if (h.type === 'corrupt') {
        out.push(byte ^ (1 << this.rng.int(8)));
        if (isDelimiter) delimiterLost = true;
        else bodyDamaged = true;
      } else if (h.type === 'drop_bytes') {
        if (isDelimiter) delimiterLost = true;
        else bodyDamaged = true;
      } else {
        out.push(byte, byte);
        if (!isDelimiter) bodyDamaged = true;
      }
    }
    while (next < len) out.push(frame[next++]!);

    if (!record) {
      const only = types.size === 1 ? [...types][0]! : null;
      record = this.truth.record({
        type: only ?? 'corrupt', worldTimeS, deviceTimeUs, lost: [], lostMessages: [], bytesAffected: 0, framesAffected: 0,
        detail: only ? '' : `mixed ${[...types].join('+')}`,
      });
    }
    record.bytesAffected += applied;
    if (bodyDamaged || delimiterLost) {
      const lost = lostRangeOf(meta);
      if (lost) record.lost.push(lost);
      else record.lostMessages.push(describeFrame(meta));
      record.framesAffected++;
    }
    if (delimiterLost) this.mergeInto = record;
    return Uint8Array.from(out);
  }
}

function parseNumber(text: string, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new SimError('E_SIM_FAULT', `fault ${what} "${text}" is not a number`, 'write numbers like 2, 0.5 or 1e-5');
  return v;
}

const FAULT_KEYS: Record<FaultType, readonly string[]> = {
  corrupt: ['rate', 'for'],
  corrupt_frames: ['count', 'kind'],
  drop_bytes: ['rate', 'for'],
  dup_bytes: ['rate', 'for'],
  disconnect: ['for'],
  drift: ['ppm'],
  overrun: ['blocks'],
  reset: [],
};

/**
 * Parses a compact fault list, as used in sim:// URLs:
 *   type[@atS][:key=value]...  separated by commas, e.g.
 *   "corrupt:rate=1e-5,disconnect@5:for=2,overrun@3:blocks=4,reset@10,drift:ppm=50,corrupt_frames@1:count=3"
 * Keys: rate (per byte), for (duration s), count, kind (sampleBlock|any), ppm, blocks.
 */
export function parseFaults(text: string): FaultSpec[] {
  const specs: FaultSpec[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [head = '', ...pairs] = item.split(':');
    const [typeText = '', atText] = head.split('@');
    const type = typeText as FaultType;
    if (!(type in FAULT_KEYS)) {
      throw new SimError('E_SIM_FAULT', `unknown fault "${typeText}"`, `use one of ${Object.keys(FAULT_KEYS).join(', ')}`);
    }
    const kv = new Map<string, string>();
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new SimError('E_SIM_FAULT', `fault option "${pair}" in "${item}" is not key=value`, 'write e.g. disconnect@5:for=2');
      const key = pair.slice(0, eq);
      if (!FAULT_KEYS[type].includes(key)) {
        throw new SimError('E_SIM_FAULT', `fault ${type} has no option "${key}"`, `options of ${type}: ${FAULT_KEYS[type].join(', ') || 'none'}`);
      }
      kv.set(key, pair.slice(eq + 1));
    }
    const at = atText === undefined ? undefined : parseNumber(atText, 'time');
    if (at !== undefined && at < 0) throw new SimError('E_SIM_FAULT', `fault time ${at} is negative`, 'give the time in seconds >= 0');
    const base = at === undefined ? {} : { atS: at };
    const need = (key: string): number => {
      const v = kv.get(key);
      if (v === undefined) throw new SimError('E_SIM_FAULT', `fault ${type} needs ${key}=`, `e.g. ${type}:${key}=1`);
      return parseNumber(v, key);
    };
    const opt = (key: string): number | undefined => (kv.has(key) ? parseNumber(kv.get(key)!, key) : undefined);
    let spec: FaultSpec;
    switch (type) {
      case 'corrupt':
      case 'drop_bytes':
      case 'dup_bytes': {
        const durationS = opt('for');
        spec = { type, rate: need('rate'), ...(durationS === undefined ? {} : { durationS }), ...base };
        break;
      }
      case 'corrupt_frames': {
        const kind = kv.get('kind') ?? 'sampleBlock';
        if (kind !== 'sampleBlock' && kind !== 'any') throw new SimError('E_SIM_FAULT', `corrupt_frames kind "${kind}"`, 'use kind=sampleBlock or kind=any');
        spec = { type, count: need('count'), kind, ...base };
        break;
      }
      case 'disconnect':
        spec = { type, durationS: need('for'), ...base };
        break;
      case 'drift':
        spec = { type, ppm: need('ppm'), ...base };
        break;
      case 'overrun':
        spec = { type, blocks: need('blocks'), ...base };
        break;
      default:
        spec = { type: 'reset', ...base };
    }
    checkFault(spec);
    specs.push(spec);
  }
  return specs;
}

/** Throws SimError for an out-of-range fault. */
export function checkFault(spec: FaultSpec): void {
  const bad = (what: string, hint: string): never => {
    throw new SimError('E_SIM_FAULT', `fault ${spec.type}: ${what}`, hint);
  };
  if ('rate' in spec && !(spec.rate >= 0 && spec.rate <= 1)) bad(`rate ${spec.rate} is not in [0, 1]`, 'give a probability per byte, e.g. 1e-5');
  if ('durationS' in spec && spec.durationS !== undefined && !(spec.durationS > 0)) bad('duration must be > 0 s', 'e.g. for=2');
  if (spec.type === 'corrupt_frames' && !(Number.isInteger(spec.count) && spec.count >= 1)) bad('count must be an integer >= 1', 'e.g. count=3');
  if (spec.type === 'overrun' && !(Number.isInteger(spec.blocks) && spec.blocks >= 1)) bad('blocks must be an integer >= 1', 'e.g. blocks=4');
  if (spec.type === 'drift' && !(Math.abs(spec.ppm) < 1e5)) bad(`ppm ${spec.ppm} is absurd`, 'crystals drift by tens of ppm');
}
