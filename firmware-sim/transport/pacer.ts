// Pacing: moves a simulated device's clock along with the wall clock.
//
// - speed N (default 1): a timer advances the device by wall-clock elapsed x N.
// - speed "max": while the device is acquiring, time advances only when the
//   consumer wants data (`wants()` true: a read is pending or the unread bytes
//   are below a low-water mark), as fast as it reads; when the device is idle
//   (not running) or nobody is attached (port closed, cable pulled), time
//   follows the wall clock at 1x, so Status cadence, reply latency and
//   outages stay human. A host that heartbeats on a wall-clock timer will see
//   the watchdog trip at high speeds: configure a long heartbeat timeout or
//   heartbeat per received block.
// The timer is unref'd while `keepAlive` is false, and stop() clears it: a
// pacer never keeps the Node event loop alive on its own after its port closed.
import { performance } from 'node:perf_hooks';
import type { SimDevice } from '../device/device.ts';
import type { Speed } from './sim-url.ts';

export interface PacerOptions {
  speed: Speed;
  /** Timer period, ms. Default 10. */
  tickMs?: number;
  /** speed=max: simulated seconds per step. Default 0.05. */
  maxStepS?: number;
  /** speed=max: wall-clock budget of one pump burst before yielding to I/O, ms. Default 15. */
  burstMs?: number;
  /** Whether the consumer wants more bytes now (speed=max). */
  wants?: () => boolean;
  now?: () => number;
}

export class Pacer {
  readonly speed: Speed;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private last = 0;
  private readonly tickMs: number;
  private readonly maxStepS: number;
  private readonly burstMs: number;
  private readonly now: () => number;
  private wants: () => boolean;
  private keepAliveValue = true;
  /** Errors thrown by the device while advancing (should not happen; kept for tests). */
  lastError: unknown = null;
  /** pump() as a callback made once (not a closure per burst). */
  private readonly pumpLater = (): void => this.pump();

  constructor(
    readonly device: SimDevice,
    options: PacerOptions,
  ) {
    this.speed = options.speed;
    this.tickMs = options.tickMs ?? 10;
    this.maxStepS = options.maxStepS ?? 0.05;
    this.burstMs = options.burstMs ?? 15;
    this.now = options.now ?? (() => performance.now());
    this.wants = options.wants ?? (() => false);
    // the host heartbeats on its clock: an accelerated device must judge heartbeat age on it too
    if (this.speed !== 1) device.useHostClockForWatchdog(() => this.now() / 1000);
  }

  get started(): boolean {
    return this.timer !== null;
  }

  setWants(wants: () => boolean): void {
    this.wants = wants;
  }

  /** While false, the pacer's timer does not keep the process alive. */
  set keepAlive(value: boolean) {
    this.keepAliveValue = value;
    if (this.timer) {
      if (value) this.timer.ref();
      else this.timer.unref();
    }
  }

  start(): void {
    if (this.timer) return;
    this.last = this.now();
    // a rig on a sync bus takes its place on the bus's wall-clock time base as its clock starts to follow the wall
    this.device.fixSyncOrigin();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    if (!this.keepAliveValue) this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
  }

  /**
   * Brings a device paced by the wall clock (speed N; speed=max while idle or
   * unplugged) up to the present before it handles input, so a command is
   * processed (and a heartbeat stamped) at the time it arrives, as firmware
   * does, not at the last timer tick (up to tickMs earlier).
   */
  catchUp(): void {
    if (this.timer) this.tick();
  }

  /** The consumer wants data: at speed=max, generate some now. */
  demand(): void {
    if (this.speed !== 'max' || !this.timer || this.immediate) return;
    this.immediate = setImmediate(this.pumpLater);
  }

  private tick(): void {
    const t = this.now();
    const elapsedS = (t - this.last) / 1000;
    this.last = t;
    try {
      if (this.speed === 'max') {
        // idle, or nobody attached to read: time follows the wall clock
        if (!this.device.running || this.device.linkDown) this.device.advance(elapsedS);
        else if (this.wants()) this.demand();
      } else {
        this.device.advance(elapsedS * this.speed);
      }
    } catch (error) {
      this.lastError = error;
      this.stop();
    }
  }

  private pump(): void {
    this.immediate = null;
    if (!this.timer) return;
    const start = this.now();
    try {
      while (this.more() && this.now() - start < this.burstMs) this.device.advance(this.maxStepS);
    } catch (error) {
      this.lastError = error;
      this.stop();
      return;
    }
    if (this.more()) this.immediate = setImmediate(this.pumpLater);
  }

  /** speed=max: whether to generate more now; only while someone can read (during a cable pull time follows the wall clock: tick). */
  private more(): boolean {
    return this.device.running && !this.device.linkDown && this.wants();
  }
}
