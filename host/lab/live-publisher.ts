// Decimated live signals for dashboards on the plain (core NATS, lossy) subject
// fiberrig.live.<rig>: at most `rateHz` messages a second, each the latest value of every
// channel. Publishing never waits: a slow or absent broker drops messages, never the recording.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Observable, Subscription } from 'rxjs';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import { liveSubject } from './layout.ts';

export interface LiveSample {
  rig: string;
  session: string;
  /** Session time of the values, s. */
  timeS: number;
  values: Record<string, number | null>;
}

export class LivePublisher {
  private latest: LiveSample | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly subscription: Subscription;
  published = 0;
  dropped = 0;

  /** `connected()`: whether the broker is reachable now (while it is not, samples are dropped, not queued in the client). */
  constructor(
    private readonly nc: NatsConnection, private readonly rig: string, session: string, signals$: Observable<SignalBlock>,
    private readonly connected: () => boolean, rateHz = 10,
  ) {
    this.subscription = signals$.subscribe((block) => {
      if (block.stream !== 'signals' || block.count === 0) return;
      const last = block.count - 1;
      const values: Record<string, number | null> = this.latest?.values ?? {};
      block.channels.forEach((c, i) => {
        const v = block.values[i]![last]!;
        values[c.name] = Number.isFinite(v) ? v : null;
      });
      this.latest = { rig, session, timeS: (block.firstIndex + last) / block.rateHz, values };
    });
    this.timer = setInterval(() => this.publish(), 1000 / rateHz);
    this.timer.unref();
  }

  private publish(): void {
    if (!this.latest) return;
    const sample = this.latest;
    this.latest = undefined;
    if (!this.connected()) {
      this.dropped += 1;
      return;
    }
    try {
      this.nc.publish(liveSubject(this.rig), JSON.stringify(sample));
      this.published += 1;
    } catch {
      this.dropped += 1;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.subscription.unsubscribe();
  }
}
