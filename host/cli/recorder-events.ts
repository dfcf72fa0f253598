// Prints what a Recorder reports (host/record/recorder.ts) the way `fiberrig acquire` always
// has: progress and notes on stderr (progress and notes not with --quiet; warnings always),
// the summary on stdout (JSON with --json).
import type { Observable, Subscription } from 'rxjs';
import type { RecorderEvent, RecordingSummary } from '../record/recorder.ts';
import { describeLight } from '../rig/light.ts';
import { formatDuration } from './duration.ts';
import type { CliIo } from './main.ts';

export interface RecorderPrintOptions {
  quiet?: boolean;
  /** Prefix of the notes (default "fiberrig"). */
  prefix?: string;
  /** Events not to print (e.g. the view prints no progress, and has named the device already). */
  skip?: ReadonlyArray<RecorderEvent['type']>;
}

/** One stderr line for a Recorder event, or null when it prints nothing (`quiet` keeps warnings only). */
export function recorderEventLine(event: RecorderEvent, options: RecorderPrintOptions = {}): string | null {
  const prefix = options.prefix ?? 'fiberrig';
  const note = (line: string): string | null => (options.quiet ? null : line);
  if (options.skip?.includes(event.type)) return null;
  switch (event.type) {
    case 'disk-space-short': {
      const d = event.diskSpace;
      return `${prefix}: warning: ${formatDuration(Number.isFinite(event.durationS) ? event.durationS : 3600)} of this configuration needs about ${(d.neededBytes / 1e6).toFixed(0)} MB (raw log ~${(d.rawLogBytesPerHour / 1e6).toFixed(0)} MB/h, derived files ~${(d.derivedBytesPerHour / 1e6).toFixed(0)} MB/h) but ${event.outDir} has ${(d.freeBytes / 1e6).toFixed(0)} MB free (~${formatDuration(d.hoursFree * 3600)}); the recording will stop with E_DISK_FULL when the disk fills`;
    }
    case 'connected':
      return note(`${prefix}: ${event.firmware} on ${event.board} (${event.device})`);
    case 'calibration-unreadable':
      return note(`warning: could not read the calibration table (${event.message}); session.json stores none`);
    case 'started':
      return note(`recording to ${event.outDir} for ${Number.isFinite(event.durationS) ? `${formatDuration(event.durationS)} of device time` : 'as long as it runs (until stopped)'}`);
    case 'progress': {
      const p = event.progress;
      const levels = p.levels.map((l) => `${l.name}=${Number.isNaN(l.last) ? '-' : l.last.toFixed(1)}`).join(' ');
      const total = Number.isFinite(p.durationS) ? formatDuration(p.durationS) : '-';
      return note(`  ${formatDuration(p.elapsedS)} / ${total}  ${p.rawSamples} samples  ${(p.samplesPerS / 1000).toFixed(1)} kS/s  gaps ${p.gaps}  rejected ${p.framesRejected}  clipped ${p.clipped}  raw log ${(p.rawLogBytes / 1e6).toFixed(1)} MB  ${levels}`);
    }
    case 'light':
      // loud, once per span and once when light is back, whatever --quiet says
      return `${prefix}: WARNING: ${describeLight(event.light, event.rateHz)}`;
    case 'removed-unstarted':
      return `${prefix}: nothing was recorded; removed what this run created in ${event.outDir}`;
    case 'marked-failed':
      return `${prefix}: the acquisition failed; ${event.outDir} is marked FAILED (what was recorded before the failure is kept)`;
    default:
      return null;
  }
}

/** Writes each event's line to stderr. */
export function printRecorderEvents(io: CliIo, events$: Observable<RecorderEvent>, options: RecorderPrintOptions = {}): Subscription {
  return events$.subscribe((event) => {
    const line = recorderEventLine(event, options);
    if (line !== null) io.stderr.write(`${line}\n`);
  });
}

/** The summary on stdout: one JSON line, or one sentence. */
export function printRecordingSummary(io: CliIo, summary: RecordingSummary, json: boolean | undefined): void {
  if (json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else io.stdout.write(`recorded ${formatDuration(summary.durationS)} (${summary.signalRows} rows at ${summary.outputRateHz} Hz, ${summary.gaps} gaps${summary.qualityFlags ? `, ${summary.darkSpans} dark spans ${summary.darkS.toFixed(1)} s` : ''}) to ${summary.recording}\n`);
}
