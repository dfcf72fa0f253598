// How often the Rig tries to reopen a device that went away while running.
//
// A replugged USB device (or a pty that comes back) is usable as soon as its
// path exists again, so the Rig polls: the first attempt after
// `reconnectInitialDelayMs` (100 ms), then delays doubling up to
// `reconnectMaxDelayMs` (default 200 ms, the polling interval from then on).
// Reopening a missing path costs one failed open() syscall, so polling five
// times a second for the whole give-up timeout (10 min by default) is cheap;
// the earlier back-off to 5 s made a reconnect take up to 5 s after the port
// returned.

export interface ReconnectScheduleOptions {
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
}

export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 100;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 200;

export class ReconnectSchedule {
  private delayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: ReconnectScheduleOptions = {}) {
    this.maxDelayMs = Math.max(1, options.reconnectMaxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS);
    this.delayMs = Math.min(this.maxDelayMs, Math.max(0, options.reconnectInitialDelayMs ?? DEFAULT_RECONNECT_INITIAL_DELAY_MS));
  }

  /** The wait before the next attempt, ms. */
  nextDelayMs(): number {
    const d = this.delayMs;
    this.delayMs = Math.min(this.maxDelayMs, Math.max(1, d * 2));
    return d;
  }
}
