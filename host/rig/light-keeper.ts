// Relights the LEDs after the device's heartbeat watchdog darkened them. The
// firmware keeps them dark after a trip even when heartbeats come back (a host
// that lost contact must re-arm on purpose); the host re-arms as soon as a
// heartbeat is answered again, by sending SetLed with the configured drive of
// every configured LED (the device restores them all at its next block
// boundary, with LedEvents, and restarts its watchdog). Only watchdog trips are
// undone: LEDs darkened for another reason stay as the device left them.
import type { AcquisitionConfigInit } from '../../protocol/index.ts';
import type { DarkCause } from './light.ts';

export type LedDrive = { currentMa: number } | { powerUw: number };

export interface LightKeeperHost {
  /** The configuration in force (its LEDs and their drives). */
  config(): AcquisitionConfigInit | undefined;
  /** Whether every configured LED is dark now, and why (the assembler's LightTracker). */
  light(): { dark: boolean; fromIndex?: number | undefined; cause: DarkCause };
  setLed(channel: number, drive: LedDrive): Promise<number>;
}

/** The drive a configured LED was asked for: its power when configured by power, else its current. */
export function configuredDrive(led: NonNullable<AcquisitionConfigInit['leds']>[number]): LedDrive {
  return led.powerUw !== undefined && led.powerUw !== null && led.powerUw > 0 ? { powerUw: led.powerUw } : { currentMa: led.currentMa ?? 0 };
}

export class LightKeeper {
  private restoring = false;
  /** The dark span a completed round of SetLed already answered (its LedEvents may still be on their way). */
  private restoredSpan: number | undefined;
  /** SetLed commands sent to undo watchdog trips (for health reporting and tests). */
  restoreCommands = 0;
  /** The last SetLed refusal or link error while restoring (the next heartbeat retries). */
  lastError: Error | undefined;

  constructor(private readonly host: LightKeeperHost) {}

  /** A heartbeat of the running acquisition was answered: the device hears the host again. */
  heartbeatAnswered(): void {
    const light = this.host.light();
    if (!light.dark || light.cause !== 'watchdog' || this.restoring) return;
    if (light.fromIndex !== undefined && light.fromIndex === this.restoredSpan) return;
    this.restoring = true;
    void this.restore(light.fromIndex).finally(() => { this.restoring = false; });
  }

  private async restore(span: number | undefined): Promise<void> {
    for (const led of this.host.config()?.leds ?? []) {
      try {
        this.restoreCommands++;
        await this.host.setLed(led.channel ?? 0, configuredDrive(led));
      } catch (error) {
        this.lastError = error as Error;
        return;
      }
    }
    this.restoredSpan = span;
  }
}
