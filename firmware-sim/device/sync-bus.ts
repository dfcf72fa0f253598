// A sync line shared by simulated rigs in one process (issue 19 item 4): one
// rig's sync output wired to the other rigs' digital inputs.
//
// Time base. Every rig on a bus has its own world time (its simulation clock,
// 0 when it was made, paced on its own). The bus adds one common ("true")
// time: a member's true time is its world time + its `originS`, fixed when it
// joins. Wall-clock pacing (sim-url.ts `sync_bus`) sets originS to the
// member's join instant on the bus's clock (wall seconds since the bus was
// made × speed), so rigs started at the same wall instant start at the same
// true instant; tests may give any origin.
//
// The schedule, not lockstep. A driver (a member whose running configuration
// enables sync_out) publishes its pulse schedule as pieces — from detector
// sample `fromIndex` its samples fall at true time trueAtS + (k - fromIndex) /
// samplesPerTrueS — at Start, at every crystal change (drift fault) and at its
// end (Stop, reset). Pulse p rises at the driver's sample p × period_samples
// (the instant the driver takes that sample) and falls pulse_samples later,
// or at the run's end if that comes first. A receiver computes, for each
// detector block it renders, the edges whose true time falls in the block's
// true span, converted to its own sample clock (drift, start instant) with
// exact subsample ticks. Nothing waits for anything: each member advances on
// its own, and the edges are a pure function of the published schedule.
//
// Members advance independently, so a receiver can render past the instant a
// driver later publishes (at most the pacers' skew at speed N). At a Start the
// bus then hands the receiver the edges it missed (its DigitalEvents arrive
// after the block that holds them, with exact indices). At a Stop or reset
// the edges a receiver already sent beyond the end cannot be taken back: they
// are counted in `truth.phantomEdges` (expected 0 when rigs are stopped by a
// host after the driver, or the skew is smaller than a pulse period).
import { SimError } from './errors.ts';

/** How a rig joins a bus (see sync-tap.ts). */
export interface SyncBusJoin {
  bus: SyncBus;
  /**
   * True time of this rig's world time 0, seconds; or how to find it, asked once with the rig's world time
   * when the bus first needs it (its first Start or block on the bus), so that a rig made some time before
   * its clock began to run still starts on the bus's wall-clock base.
   */
  originS: number | ((worldS: number) => number);
  /** The digital input line the bus is wired to (default 0). */
  inputLine?: number;
  /** A name for messages and tests (default: the bus name). */
  name?: string;
}

/** True time of a driver's detector sample k, from fromIndex on (until the next piece). */
export interface SyncPiece {
  fromIndex: number;
  trueAtS: number;
  samplesPerTrueS: number;
}

/** One run of a driver, as published. */
export interface SyncRunSchedule {
  member: SyncBusMember;
  periodSamples: number;
  pulseSamples: number;
  pieces: SyncPiece[];
  /** First sample not taken (Stop, reset), or +Infinity while running. */
  endIndex: number;
}

export interface BusEdge {
  trueS: number;
  rising: boolean;
}

/** What the bus needs of a member (a device, through its core). */
export interface SyncBusMember {
  readonly name: string;
  /** True time = world time + originS. */
  readonly originS: number;
  /** The digital input line the bus is wired to on this rig. */
  readonly inputLine: number;
  /** Edges the member missed (true time >= its horizon at publication): it sends them late. */
  lateEdges(edges: BusEdge[]): void;
  /** True time up to which this member has sent bus edges (of its current run), or null. */
  horizonTrueS: number | null;
}

export interface SyncBusTruth {
  /** Edges a receiver sent beyond a driver's end (Stop, reset) it had not yet seen. */
  phantomEdges: number;
  /** Edges handed to receivers late (after their block) because the driver started in their past. */
  lateEdges: number;
}

export class SyncBus {
  readonly members = new Set<SyncBusMember>();
  readonly runs: SyncRunSchedule[] = [];
  readonly truth: SyncBusTruth = { phantomEdges: 0, lateEdges: 0 };
  /** performance.now() (ms) when the bus was made: wall-clock origins are measured from it. */
  readonly epochMs: number;
  /** The speed its rigs run at (sim-url.ts), once one joined through the registry. */
  speed: number | 'max' | null = null;

  constructor(readonly name: string, epochMs = 0) {
    this.epochMs = epochMs;
  }

  join(member: SyncBusMember): void {
    this.members.add(member);
  }

  /** The rig is discarded. When the last one leaves, the bus forgets its schedule and its speed. */
  leave(member: SyncBusMember): void {
    this.members.delete(member);
    if (this.members.size > 0) return;
    this.runs.length = 0;
    this.speed = null;
  }

  /** A driver started a run: sample 0 at true time trueAtS. */
  start(member: SyncBusMember, periodSamples: number, pulseSamples: number, trueAtS: number, samplesPerTrueS: number): SyncRunSchedule {
    const run: SyncRunSchedule = { member, periodSamples, pulseSamples, pieces: [{ fromIndex: 0, trueAtS, samplesPerTrueS }], endIndex: Number.POSITIVE_INFINITY };
    this.runs.push(run);
    for (const m of this.members) {
      if (m.horizonTrueS === null || m.horizonTrueS <= trueAtS) continue;
      const missed = edgesOf(run, trueAtS, m.horizonTrueS);
      if (missed.length === 0) continue;
      this.truth.lateEdges += missed.length;
      m.lateEdges(missed);
    }
    return run;
  }

  /** The driver's crystal changed from sample fromIndex on. */
  retime(run: SyncRunSchedule, fromIndex: number, samplesPerTrueS: number): void {
    const trueAtS = trueOfIndex(run, fromIndex);
    run.pieces = run.pieces.filter((p) => p.fromIndex < fromIndex);
    run.pieces.push({ fromIndex, trueAtS, samplesPerTrueS });
  }

  /** The driver's run ended: sample endIndex was not taken. */
  end(run: SyncRunSchedule, endIndex: number): void {
    if (run.endIndex !== Number.POSITIVE_INFINITY) return;
    const endTrueS = trueOfIndex(run, endIndex);
    for (const m of this.members) {
      if (m.horizonTrueS === null || m.horizonTrueS <= endTrueS) continue;
      const before = edgesOf(run, endTrueS, m.horizonTrueS).length;
      run.endIndex = endIndex;
      const after = edgesOf(run, endTrueS, m.horizonTrueS).length;
      run.endIndex = Number.POSITIVE_INFINITY;
      this.truth.phantomEdges += Math.max(0, before - after);
    }
    run.endIndex = endIndex;
  }

  /** Every edge on the line with trueFromS <= true time < trueToS, in time order. */
  edgesBetween(trueFromS: number, trueToS: number): BusEdge[] {
    const out: BusEdge[] = [];
    for (const run of this.runs) out.push(...edgesOf(run, trueFromS, trueToS));
    if (this.runs.length > 1) out.sort((a, b) => a.trueS - b.trueS);
    return out;
  }
}

/** True time of a driver's sample k (k may be fractional). */
export function trueOfIndex(run: SyncRunSchedule, k: number): number {
  let piece = run.pieces[0]!;
  for (const p of run.pieces) if (p.fromIndex <= k) piece = p;
  return piece.trueAtS + (k - piece.fromIndex) / piece.samplesPerTrueS;
}

function indexOfTrue(run: SyncRunSchedule, t: number): number {
  let piece = run.pieces[0]!;
  for (const p of run.pieces) if (p.trueAtS <= t) piece = p;
  return piece.fromIndex + (t - piece.trueAtS) * piece.samplesPerTrueS;
}

/** The edges of one run with trueFromS <= true time < trueToS. */
export function edgesOf(run: SyncRunSchedule, trueFromS: number, trueToS: number): BusEdge[] {
  const out: BusEdge[] = [];
  if (!(trueToS > trueFromS)) return out;
  const kFrom = indexOfTrue(run, trueFromS) - 1;
  const kTo = Math.min(indexOfTrue(run, trueToS) + 1, run.endIndex + run.pulseSamples + 1);
  const { periodSamples: period, pulseSamples: pulse, endIndex: end } = run;
  // pulses whose rise or fall may fall in [kFrom, kTo]
  const pFirst = Math.max(0, Math.floor((kFrom - pulse) / period));
  for (let p = pFirst; p * period <= kTo; p++) {
    const rise = p * period;
    if (rise >= end) break;
    const fall = Math.min(rise + pulse, end);
    const tRise = trueOfIndex(run, rise);
    if (tRise >= trueFromS && tRise < trueToS) out.push({ trueS: tRise, rising: true });
    if (fall === Number.POSITIVE_INFINITY) continue;
    const tFall = trueOfIndex(run, fall);
    if (tFall >= trueFromS && tFall < trueToS) out.push({ trueS: tFall, rising: false });
  }
  return out;
}

/** The sync buses of one process, by name (sim:// URLs that name the same bus share it). */
export class SyncBusRegistry {
  private readonly buses = new Map<string, SyncBus>();

  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /** The bus called `name`, made now when there is none yet. */
  bus(name: string): SyncBus {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      throw new SimError('E_SIM_URL', `sync bus name "${name}" is not 1-64 letters, digits, _ . -`, 'name the bus e.g. sync_bus=lab1');
    }
    let b = this.buses.get(name);
    if (!b) this.buses.set(name, (b = new SyncBus(name, this.nowMs())));
    return b;
  }

  /**
   * Joins a rig to the bus called `name`, paced at `speed` (simulated seconds per wall second; "max" follows the
   * wall clock while idle): its true time is the bus's wall-clock time × speed when the bus first needs it.
   * Every rig on one bus must run at one speed (else their true times would not share a base).
   */
  joinNow(name: string, speed: number | 'max', inputLine: number): SyncBusJoin {
    const bus = this.bus(name);
    const factor = speed === 'max' ? 1 : speed;
    if (bus.speed !== null && bus.speed !== speed) {
      throw new SimError('E_SIM_OPTIONS', `sync bus "${name}" runs at speed=${bus.speed}, this rig at speed=${speed}`, 'give every rig on one sync bus the same speed= (their clocks share one time base)');
    }
    bus.speed = speed;
    return { bus, originS: (worldS) => ((this.nowMs() - bus.epochMs) / 1000) * factor - worldS, inputLine, name };
  }

  /** Forgets every bus (tests). */
  reset(): void {
    this.buses.clear();
  }
}

/** The process's buses: what sim:// URLs with sync_bus=NAME join. */
export const SYNC_BUSES = new SyncBusRegistry();
