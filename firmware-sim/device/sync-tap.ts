// One simulated rig's connection to a shared sync line (sync-bus.ts): as a
// driver it publishes its pulse schedule (Start, crystal change, Stop, reset);
// as a receiver it turns the bus's edges in each detector block's true span
// into DigitalEvents on its own sample clock (its drift, its start instant),
// subsample ticks included. The device calls the hooks; the bus never reaches
// into the device except through lateEdges().
import { Edge } from '../../protocol/index.ts';
import type { DeviceCore } from './core.ts';
import type { BusEdge, SyncBus, SyncBusJoin, SyncBusMember, SyncRunSchedule } from './sync-bus.ts';

export type { SyncBusJoin } from './sync-bus.ts';

export interface CapturedEdge {
  line: number;
  rising: boolean;
  n: number;
  ticks: number;
}

export class SyncTap implements SyncBusMember {
  readonly bus: SyncBus;
  readonly inputLine: number;
  private origin: number | ((worldS: number) => number);
  readonly name: string;
  horizonTrueS: number | null = null;
  private horizonRun = -1;
  private driving: SyncRunSchedule | null = null;

  constructor(private readonly core: DeviceCore, join: SyncBusJoin) {
    this.bus = join.bus;
    this.origin = join.originS;
    this.inputLine = join.inputLine ?? 0;
    this.name = join.name ?? join.bus.name;
    this.bus.join(this);
  }

  /** True time of this rig's world time 0 (fixed by fixOrigin(), or on first use). */
  get originS(): number {
    this.fixOrigin();
    return this.origin as number;
  }

  /** Fixes the origin now, if it is still to be found (a pacer starting to move this rig's clock with the wall clock). */
  fixOrigin(): void {
    if (typeof this.origin === 'function') this.origin = this.origin(this.core.clock.worldS);
  }

  /** True (bus) time of detector sample n of the current or last run since boot (n may be fractional). */
  trueOfSample(n: number): number | null {
    const { run, clock } = this.core;
    if (!run.config) return null;
    return clock.worldOf(run.startDevS + n / run.config.sampleRateHz) + this.originS;
  }

  // ------------------------------------------------------------ driver hooks

  /** A run started (core.run is the new one). */
  started(): void {
    this.horizonTrueS = null;
    const { run, clock } = this.core;
    const sync = run.config?.syncOut;
    this.driving = null;
    if (!sync) return;
    const seg = clock.segFor(run.startDevS);
    this.driving = this.bus.start(this, sync.periodSamples, sync.pulseSamples, this.trueOfSample(0)!, run.config!.sampleRateHz * seg.rate);
  }

  /** The crystal changed from detector sample `atSample` of the running run on. */
  retimed(atSample: number): void {
    const { run, clock } = this.core;
    if (!this.driving || !run.running) return;
    const seg = clock.segFor(run.startDevS + atSample / run.config!.sampleRateHz);
    this.bus.retime(this.driving, atSample, run.config!.sampleRateHz * seg.rate);
  }

  /** The run ended (Stop, reset): sample `endIndex` was not taken. */
  ended(endIndex: number): void {
    if (this.driving) this.bus.end(this.driving, endIndex);
    this.driving = null;
    this.horizonTrueS = null;
  }

  /** The rig leaves the bus (its simulation is discarded): its pulses end now. */
  leave(): void {
    const { run, clock } = this.core;
    if (run.running) this.ended(run.samplesTaken(clock.devS));
    this.bus.leave(this);
  }

  // ---------------------------------------------------------- receiver side

  /** The bus edges during detector samples [first, first + count) of the running run, on this rig's clock. */
  blockEdges(first: number, count: number): CapturedEdge[] {
    const run = this.core.run;
    if (!run.config?.digitalInputIds.includes(this.inputLine)) return [];
    const from = this.trueOfSample(first)!;
    const to = this.trueOfSample(first + count)!;
    this.horizonTrueS = to;
    this.horizonRun = run.number;
    return this.bus.edgesBetween(from, to).map((e) => this.capture(e));
  }

  /** Edges the bus published in this rig's past (a driver started after this rig rendered past its start). */
  lateEdges(edges: BusEdge[]): void {
    const run = this.core.run;
    if (!run.running || run.number !== this.horizonRun) return;
    const configId = this.core.session.configId;
    for (const e of edges) {
      const ev = this.capture(e);
      if (ev.n < 0) continue;
      this.core.uplink.send({
        requestId: 0,
        digitalEvent: { line: ev.line, edge: ev.rising ? Edge.EDGE_RISING : Edge.EDGE_FALLING, sampleIndex: ev.n, subsampleTicks: ev.ticks, configId },
      }, 'stream');
    }
  }

  private capture(e: BusEdge): CapturedEdge {
    const { run, clock, board } = this.core;
    const fs = run.config!.sampleRateHz;
    const ticksPerSample = board.timerClockHz / fs;
    const x = (clock.devOf(e.trueS - this.originS) - run.startDevS) * fs;
    let n = Math.floor(x + 1e-9);
    let ticks = Math.floor(Math.max(0, x - n) * ticksPerSample + 1e-6);
    if (ticks >= ticksPerSample) {
      n++;
      ticks = 0;
    }
    return { line: this.inputLine, rising: e.rising, n, ticks };
  }
}
