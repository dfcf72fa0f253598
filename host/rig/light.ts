// Light is part of the data: tracks whether the configured LEDs are lit, from
// the device's own messages, and marks on the session timeline where every
// configured LED went dark and where light came back. Pure bookkeeping fed by
// the assembler, so the live Rig and the replay of a raw log mark the same
// samples.
//
// What is authoritative. The sample indices come from LedEvents only: they are
// the device's statement of the first sample taken with a new drive, and they
// travel in order with the sample blocks (a LedEvent precedes the block holding
// its sample). The reason comes from Status.dark_reason (an enum, sent every
// status interval) and the device's warning Log; both travel on the device's
// priority queue, so they may arrive before the LedEvents of the trip they
// describe: a hint seen since light was last restored names the next dark span.
// A span whose reason is learnt only while it is open carries it on its end.
import { DarkReason, LogLevel, type Status } from '../../protocol/index.ts';

export type DarkCause = 'watchdog' | 'fault' | 'unexplained';

/** Human label of a dark span, as written to quality files and exports. */
export function darkLabel(cause: DarkCause): string {
  return `LEDs dark: ${cause}`;
}

/** A change of light on the detector timeline: every configured LED dark from here, or light back from here. */
export interface RigLight {
  kind: 'light';
  source: 'detector';
  /** Session index of the first sample taken with the new drive. */
  sessionIndex: number;
  /** False: every configured LED is dark from `sessionIndex`; true: light is back from `sessionIndex`. */
  lit: boolean;
  cause: DarkCause;
  /** On a `lit` marker: the session index where the dark span began. */
  darkFromIndex?: number;
  segment: number;
}

/** A closed dark span on the detector timeline: samples [sessionIndex, sessionIndex + count). */
export interface DarkSpan {
  source: 'detector';
  sessionIndex: number;
  count: number;
  startS: number;
  durationS: number;
  cause: DarkCause;
  label: string;
}

/** The span a `lit` marker closes, limited to samples before `limitIndex`; undefined when none are. */
export function darkSpanOf(marker: RigLight, rateHz: number, limitIndex = Number.POSITIVE_INFINITY): DarkSpan | undefined {
  if (!marker.lit || marker.darkFromIndex === undefined || !(rateHz > 0)) return undefined;
  const end = Math.min(marker.sessionIndex, limitIndex);
  const count = end - marker.darkFromIndex;
  if (count <= 0) return undefined;
  return {
    source: 'detector', sessionIndex: marker.darkFromIndex, count, startS: marker.darkFromIndex / rateHz, durationS: count / rateHz,
    cause: marker.cause, label: darkLabel(marker.cause),
  };
}

const WARN_LEVEL: number = LogLevel.LOG_LEVEL_WARN;

export class LightTracker {
  private channels: number[] = [];
  private readonly levelMa = new Map<number, number>();
  private darkFrom: number | undefined;
  private cause: DarkCause = 'unexplained';
  private hint: DarkCause | undefined;

  constructor(private readonly emit: (marker: RigLight) => void, private readonly segmentOf: () => number) {}

  /** Where every configured LED has been dark since (undefined while lit), and why. */
  get state(): { dark: boolean; fromIndex: number | undefined; cause: DarkCause } {
    return { dark: this.darkFrom !== undefined, fromIndex: this.darkFrom, cause: this.darkFrom !== undefined ? this.cause : 'unexplained' };
  }

  /** A Configure was accepted: these LED channels are the ones that light the data. */
  configured(ledChannels: readonly number[]): void {
    this.channels = [...ledChannels];
  }

  /**
   * A Start (new or resumed) was accepted: the device drives every LED as
   * configured again. A span still open ends at `endIndex` (where the previous
   * segment's data ended).
   */
  restarted(endIndex: number): void {
    this.close(endIndex);
    this.levelMa.clear();
    this.hint = undefined;
  }

  /** Stop was accepted: a span still open ends where the data ends. */
  stopped(endIndex: number): void {
    this.close(endIndex);
  }

  led(channel: number, currentMa: number, sessionIndex: number): void {
    if (!this.channels.includes(channel)) return;
    this.levelMa.set(channel, currentMa);
    const allDark = this.channels.length > 0 && this.channels.every((c) => this.levelMa.get(c) === 0);
    if (allDark && this.darkFrom === undefined) {
      this.darkFrom = sessionIndex;
      this.cause = this.hint ?? 'unexplained';
      this.emit({ kind: 'light', source: 'detector', sessionIndex, lit: false, cause: this.cause, segment: this.segmentOf() });
    } else if (!allDark && this.darkFrom !== undefined) {
      this.close(sessionIndex);
    }
  }

  status(status: Status): void {
    const cause = status.darkReason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT ? 'watchdog'
      : status.darkReason === DarkReason.DARK_REASON_FAULT ? 'fault' : undefined;
    if (cause) this.learn(cause);
  }

  log(level: number, message: string): void {
    if (level >= WARN_LEVEL && /heartbeat timeout/i.test(message)) this.learn('watchdog');
  }

  private learn(cause: DarkCause): void {
    this.hint = cause;
    if (this.darkFrom !== undefined && this.cause === 'unexplained') this.cause = cause;
  }

  private close(endIndex: number): void {
    if (this.darkFrom === undefined) return;
    const from = this.darkFrom;
    this.darkFrom = undefined;
    this.hint = undefined;
    this.emit({ kind: 'light', source: 'detector', sessionIndex: Math.max(from, endIndex), lit: true, cause: this.cause, darkFromIndex: from, segment: this.segmentOf() });
    this.cause = 'unexplained';
  }
}

/** One line for people (stderr, the live view): where light went and came back, in session seconds. */
export function describeLight(marker: RigLight, rateHz: number): string {
  const t = (index: number): string => (rateHz > 0 ? `${(index / rateHz).toFixed(3)} s` : `sample ${index}`);
  const why = marker.cause === 'watchdog' ? 'the device watchdog darkened them: no heartbeat reached it in time'
    : marker.cause === 'fault' ? 'the device reports a fault' : 'every configured LED at 0 mA; cause not reported yet';
  if (!marker.lit) return `LEDs dark from ${t(marker.sessionIndex)} (${why}); signals are NaN until light is back`;
  const from = marker.darkFromIndex ?? marker.sessionIndex;
  const span = rateHz > 0 ? ` (${((marker.sessionIndex - from) / rateHz).toFixed(3)} s)` : '';
  return `${darkLabel(marker.cause)} from ${t(from)} to ${t(marker.sessionIndex)}${span}: flagged in quality.csv, signals NaN there`;
}
