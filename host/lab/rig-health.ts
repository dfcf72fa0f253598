// What the fleet's alarms need beyond the link: whether the device has darkened its LEDs on its
// own (the heartbeat watchdog, or a fault — Status.dark_reason, sent every status interval) and
// how full the disk holding the recordings is. Read by the agent into the rig's fleet entry.
import { statfs } from 'node:fs/promises';
import type { Observable, Subscription } from 'rxjs';
import { DarkReason, type Status } from '../../protocol/index.ts';

export interface LedHealth {
  /** True while the device reports its LEDs dark by the watchdog or a fault (not by a Stop). */
  dark: boolean;
  reason: 'watchdog' | 'fault' | null;
  /** When the current dark span was first reported (null while lit). */
  sinceIso: string | null;
}

export interface DiskHealth {
  freeBytes: number;
  totalBytes: number;
}

/** Follows a rig's Status messages: the LEDs' dark state as the device states it. */
export class LedWatch {
  private value: LedHealth = { dark: false, reason: null, sinceIso: null };
  private readonly subscription: Subscription;

  constructor(status$: Observable<Status>, private readonly now: () => Date = () => new Date()) {
    this.subscription = status$.subscribe((s) => this.observe(s.darkReason));
  }

  get state(): LedHealth {
    return { ...this.value };
  }

  private observe(reason: Status['darkReason'] | undefined): void {
    const cause = reason === DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT ? 'watchdog' : reason === DarkReason.DARK_REASON_FAULT ? 'fault' : null;
    if (cause === null) {
      this.value = { dark: false, reason: null, sinceIso: null };
    } else if (!this.value.dark || this.value.reason !== cause) {
      this.value = { dark: true, reason: cause, sinceIso: this.now().toISOString() };
    }
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/** Free and total bytes of the file system holding `dir` (null when it cannot be read). */
export async function diskHealth(dir: string): Promise<DiskHealth | null> {
  try {
    const fs = await statfs(dir);
    return { freeBytes: Number(fs.bavail) * Number(fs.bsize), totalBytes: Number(fs.blocks) * Number(fs.bsize) };
  } catch {
    return null;
  }
}
