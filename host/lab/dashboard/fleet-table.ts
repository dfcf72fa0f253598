// What the dashboard knows of the fleet, kept on the server: each rig's last state, when it
// was last heard of (by this process's clock: agents' clocks may differ), its live samples,
// its latest sessions' archive progress, and the alarms that follow from them. Pure: time comes
// in as an argument.
import type { ArchiveProgress, FleetEvent, FleetRigState, LiveSample, SessionArchiveProgress } from './fleet-source.ts';

export type AlarmKind = 'offline' | 'link-down' | 'gaps' | 'live-stalled' | 'leds-dark' | 'disk' | 'mirror';

export interface Alarm {
  kind: AlarmKind;
  severity: 'error' | 'warn';
  message: string;
}

/** A session's archive progress as a card shows it. */
export interface SessionArchiveRow extends SessionArchiveProgress {
  /** Bytes of the agent's raw log read so far (its mirror's, while that is this session's); null when unknown. */
  fileBytes: number | null;
}

export interface RigRow {
  rig: string;
  /** The last state the agent published (kept after it leaves, to show what it was). */
  state: FleetRigState;
  online: boolean;
  /** Seconds since the dashboard last heard of the rig (KV update or live sample). */
  lastHeardS: number;
  /** Missing + dropped samples added within the gap window. */
  newMissingSamples: number;
  alarms: Alarm[];
  /** Its latest sessions' archive progress, newest first. */
  archive: SessionArchiveRow[];
}

export interface FleetTableOptions {
  /** No KV update for this long: offline (default 15000, the agent's default fleet TTL). */
  offlineAfterMs?: number;
  /** Missing samples counted over this window for the gaps alarm (default 60000). */
  gapWindowMs?: number;
  /** A recording rig without a live sample for this long: live stalled (default 5000). */
  liveStalledAfterMs?: number;
  /** Disk alarm below this free fraction (default 0.1; error below a third of it). */
  diskFreeWarnFraction?: number;
  /** Mirror alarm when this many bytes of the raw log are not yet acknowledged by the broker (default 16 MiB). */
  mirrorLagWarnBytes?: number;
  /** Sessions per rig whose archive progress is kept and shown (default 5, the latest). */
  archiveSessionsPerRig?: number;
}

interface Entry {
  state: FleetRigState;
  online: boolean;
  goneReason?: 'deleted' | 'expired';
  lastStateMs: number;
  lastLiveMs: number | undefined;
  /** (time, missing + dropped) as states arrived, within the gap window. */
  missingHistory: { atMs: number; total: number }[];
}

const MB = 1024 * 1024;

export class FleetTable {
  private readonly entries = new Map<string, Entry>();
  /** Archive progress per rig, by session id (ids sort in time order). */
  private readonly sessions = new Map<string, Map<string, SessionArchiveProgress>>();
  private o: Required<FleetTableOptions>;
  archive: ArchiveProgress | undefined;

  constructor(options: FleetTableOptions = {}) {
    this.o = { offlineAfterMs: 15_000, gapWindowMs: 60_000, liveStalledAfterMs: 5_000, diskFreeWarnFraction: 0.1, mirrorLagWarnBytes: 16 * MB, archiveSessionsPerRig: 5, ...options };
  }

  /** The entries' lifetime changed (the bucket's TTL became known). */
  setOfflineAfterMs(ms: number): void {
    this.o = { ...this.o, offlineAfterMs: ms };
  }

  get offlineAfterMs(): number {
    return this.o.offlineAfterMs;
  }

  get rigNames(): string[] {
    return [...this.entries.keys()].sort();
  }

  apply(event: FleetEvent, nowMs: number): void {
    if (event.type === 'gone') {
      const entry = this.entries.get(event.rig);
      if (entry) {
        entry.online = false;
        entry.goneReason = event.reason;
      }
      return;
    }
    const total = event.state.link.missingSamples + event.state.link.droppedSamples;
    const storedMs = nowMs - Math.max(0, event.ageMs ?? 0);
    const entry = this.entries.get(event.rig);
    if (!entry) {
      this.entries.set(event.rig, { state: event.state, online: true, lastStateMs: storedMs, lastLiveMs: undefined, missingHistory: [{ atMs: nowMs, total }] });
      return;
    }
    entry.state = event.state;
    entry.online = true;
    delete entry.goneReason;
    entry.lastStateMs = Math.max(entry.lastStateMs, storedMs);
    entry.missingHistory.push({ atMs: nowMs, total });
    // keep one point at or before the window's start, so the window's increase is known
    while (entry.missingHistory.length > 2 && entry.missingHistory[1]!.atMs <= nowMs - this.o.gapWindowMs) entry.missingHistory.shift();
  }

  applyLive(sample: LiveSample, nowMs: number): void {
    const entry = this.entries.get(sample.rig);
    if (entry) entry.lastLiveMs = nowMs;
  }

  /** A session's archive progress (kept for the rig's latest sessions only). */
  applySession(progress: SessionArchiveProgress): void {
    let byId = this.sessions.get(progress.rig);
    if (!byId) this.sessions.set(progress.rig, (byId = new Map()));
    byId.set(progress.session, progress);
    if (byId.size > this.o.archiveSessionsPerRig) {
      const ids = [...byId.keys()].sort();
      for (const id of ids.slice(0, ids.length - this.o.archiveSessionsPerRig)) byId.delete(id);
    }
  }

  /** Forgets a rig (the page's "forget" of an offline rig). */
  forget(rig: string): boolean {
    this.sessions.delete(rig);
    return this.entries.delete(rig);
  }

  isOnline(rig: string, nowMs: number): boolean {
    const entry = this.entries.get(rig);
    return entry?.online === true && nowMs - entry.lastStateMs <= this.o.offlineAfterMs;
  }

  rows(nowMs: number): RigRow[] {
    return this.rigNames.map((rig) => this.row(rig, this.entries.get(rig)!, nowMs));
  }

  private row(rig: string, e: Entry, nowMs: number): RigRow {
    const alarms: Alarm[] = [];
    const s = e.state;
    const sinceStateMs = nowMs - e.lastStateMs;
    const online = e.online && sinceStateMs <= this.o.offlineAfterMs;
    if (!online) {
      const why = !e.online ? (e.goneReason === 'deleted' ? 'its agent left the fleet' : 'its fleet entry expired') : `no update for ${Math.round(sinceStateMs / 1000)} s`;
      alarms.push({ kind: 'offline', severity: 'error', message: `offline: ${why}${s.recording ? ` (was recording ${s.session})` : ''}` });
    }
    if (online && !s.link.connected) alarms.push({ kind: 'link-down', severity: 'error', message: `device link down (${s.link.reconnects} reconnects)` });
    // the count at the window's start (or when the rig was first seen)
    const base = e.missingHistory.filter((h) => h.atMs <= nowMs - this.o.gapWindowMs).at(-1) ?? e.missingHistory[0]!;
    const newMissing = Math.max(0, s.link.missingSamples + s.link.droppedSamples - base.total);
    if (online && newMissing > 0) {
      alarms.push({ kind: 'gaps', severity: 'warn', message: `gaps: ${newMissing} samples missing or dropped in the last ${Math.round(this.o.gapWindowMs / 1000)} s (total ${s.link.missingSamples} missing, ${s.link.droppedSamples} dropped)` });
    }
    if (online && s.recording) {
      const liveAgeMs = nowMs - (e.lastLiveMs ?? e.lastStateMs);
      if (liveAgeMs > this.o.liveStalledAfterMs) alarms.push({ kind: 'live-stalled', severity: 'warn', message: `no live samples for ${Math.round(liveAgeMs / 1000)} s while recording` });
    }
    if (s.leds?.dark) alarms.push({ kind: 'leds-dark', severity: 'error', message: `LEDs dark (${s.leds.reason === 'fault' ? 'device fault' : 'device watchdog'})${s.leds.sinceIso ? ` since ${s.leds.sinceIso}` : ''}` });
    if (s.disk && s.disk.totalBytes > 0) {
      const free = s.disk.freeBytes / s.disk.totalBytes;
      if (free < this.o.diskFreeWarnFraction) {
        alarms.push({ kind: 'disk', severity: free < this.o.diskFreeWarnFraction / 3 ? 'error' : 'warn', message: `disk filling: ${(s.disk.freeBytes / 1e9).toFixed(1)} GB free (${(free * 100).toFixed(1)} %)` });
      }
    }
    if (s.mirror) {
      const lag = s.mirror.fileBytes - s.mirror.ackedBytes;
      if (s.mirror.failures > 0 && lag > 0) alarms.push({ kind: 'mirror', severity: 'warn', message: `mirror: broker not acknowledging, ${(lag / MB).toFixed(1)} MB waiting (recording goes on locally)` });
      else if (lag > this.o.mirrorLagWarnBytes) alarms.push({ kind: 'mirror', severity: 'warn', message: `mirror behind: ${(lag / MB).toFixed(1)} MB not yet on the broker` });
    }
    const lastHeardMs = Math.max(e.lastStateMs, e.lastLiveMs ?? 0);
    return { rig, state: s, online, lastHeardS: Math.max(0, (nowMs - lastHeardMs) / 1000), newMissingSamples: newMissing, alarms, archive: this.archiveRows(rig, s) };
  }

  private archiveRows(rig: string, s: FleetRigState): SessionArchiveRow[] {
    const byId = this.sessions.get(rig);
    if (!byId) return [];
    return [...byId.values()].sort((a, b) => (a.session < b.session ? 1 : a.session > b.session ? -1 : 0))
      .map((p) => ({ ...p, fileBytes: s.mirror?.session === p.session ? s.mirror.fileBytes : null }));
  }
}
