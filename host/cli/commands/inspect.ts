// `fiberrig inspect RECORDING [--json]`: what a recording holds. Exit code 0
// for an intact raw log (a torn tail after a crash included), 3 for a damaged
// one (damaged spans or a lost header: what was recovered is listed).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { inspectRecording, type RecordingInspection } from '../../record/inspect.ts';
import type { CliIo, Runner } from '../main.ts';
import { formatDuration } from '../duration.ts';
import { flagOrPositional } from '../arguments.ts';

/** `fiberrig inspect` exit code for a raw log with damaged spans (the recording was read; some records are lost). */
export const EXIT_DAMAGED_RAW_LOG = 3;

function text(r: RecordingInspection): string {
  const lines: string[] = [];
  lines.push(`recording  ${r.recording}`);
  lines.push(`raw log    ${(r.rawLog.bytes / 1e6).toFixed(1)} MB, ${r.rawLog.records} records, ${r.rawLog.closedCleanly ? 'closed cleanly' : 'not closed (crash or still recording)'}${r.rawLog.tornTailBytes ? `, torn tail ${r.rawLog.tornTailBytes} B ignored` : ''}${r.rawLog.corruptSpans ? `, ${r.rawLog.corruptSpans} damaged spans (${r.rawLog.corruptBytes} B) skipped` : ''}`);
  if (r.status === 'damaged') {
    const d = r.damage;
    lines.push(`DAMAGED    ${d.spanCount} damaged span(s), ${d.bytes} B unreadable${d.headerMissing ? ', header lost' : ''}; ${d.lostDetectorSamples} detector samples lost with them`);
    for (const s of d.spans.slice(0, 20)) lines.push(`  bytes ${s.startByte}-${s.endByte} (${s.endByte - s.startByte} B): ${s.openEnded ? '≥ ' : ''}${s.lostDetectorSamples} detector samples${s.openEnded ? ' (the end of the log is lost: how many were taken is unknown)' : ''}`);
    if (d.spanCount > 20) lines.push(`  … ${d.spanCount - 20} more`);
    for (const what of d.recovered) lines.push(`  recovered: ${what}`);
  }
  lines.push(`started    ${r.hostStart} (${r.recordedWith})${r.stoppedBy ? `, stopped by ${r.stoppedBy}` : ''}`);
  if (r.failed) lines.push(`FAILED     this acquisition failed (${r.failed.error}); what was recorded before the failure is below`);
  if (r.subject) lines.push(`subject    ${r.subject}`);
  if (r.notes) lines.push(`notes      ${r.notes}`);
  if (r.device) lines.push(`device     ${r.device.url ?? ''} ${r.device.firmware} on ${r.device.board} #${r.device.serialNumber}`);
  if (r.config) {
    const c = r.config;
    lines.push(`config     ${c.mode} at ${c.sampleRateHz} Hz, detectors ${c.detectors.join(',')}, ${c.blockSamples}-sample blocks`);
    for (const l of c.leds) lines.push(`  LED ${l.channel}  ${l.wavelengthNm ?? '?'} nm  ${l.currentMa !== null ? `${l.currentMa} mA` : `${l.powerUw} µW`}${l.carrierHz ? `  carrier ${l.carrierHz} Hz` : ''}`);
    if (c.aux) lines.push(`  aux ${c.aux.inputs.join(',')} at ${c.aux.rateHz} Hz`);
    if (c.digitalInputs.length) lines.push(`  digital inputs ${c.digitalInputs.join(',')}`);
  }
  lines.push(`processing ${JSON.stringify(r.processing)}`);
  const byStream = new Map<string, { rate: number; names: string[] }>();
  for (const ch of r.channels) {
    const s = byStream.get(ch.stream) ?? { rate: ch.rateHz, names: [] };
    s.names.push(ch.name);
    byStream.set(ch.stream, s);
  }
  for (const [stream, s] of byStream) lines.push(`channels   ${stream} at ${s.rate} Hz: ${s.names.join(', ')}`);
  lines.push(`duration   ${formatDuration(r.durationS)} of device time (${r.detectorSamples} detector samples, ${r.auxSamples} aux samples, ${r.segments} segment(s))`);
  lines.push(`gaps       ${r.gaps.count} (${r.gaps.missingDetectorSamples} detector samples, ${r.gaps.missingS.toFixed(3)} s missing)`);
  for (const g of r.gaps.first) lines.push(`  ${g.source} at ${g.startS.toFixed(3)} s for ${g.durationS.toFixed(3)} s (${g.count} samples, ${g.reason}${g.estimated ? `, estimated ±${g.uncertaintySamples ?? '?'} samples` : ''})`);
  if (r.gaps.count > r.gaps.first.length) lines.push(`  … ${r.gaps.count - r.gaps.first.length} more`);
  lines.push(`quality    ${r.quality.count} flagged span${r.quality.count === 1 ? '' : 's'} (${r.quality.darkS.toFixed(3)} s with every LED dark: signals NaN)`);
  for (const q of r.quality.spans) lines.push(`  ${q.label} at ${q.startS.toFixed(3)} s for ${q.durationS.toFixed(3)} s (${q.count} samples)`);
  lines.push(`events     ${r.events.digital} digital edges, ${r.events.led} LED changes; ${r.heartbeats} heartbeats${r.clock ? `, device clock drift ${r.clock.segments.length > 1 ? r.clock.segments.map((s) => `${s.driftPpm.toFixed(2)} ± ${s.driftStdErrPpm.toFixed(2)}`).join(' / ') + ' ppm (per segment, ± 1 sigma)' : `${r.clock.driftPpm.toFixed(2)} ppm`}` : ''}`);
  if (r.counters) lines.push(`counters   ${JSON.stringify(r.counters)}`);
  if (r.ignoredAcquisitions) lines.push(`note       ${r.ignoredAcquisitions} later acquisition(s) in the same raw log are not included`);
  return `${lines.join('\n')}\n`;
}

export async function inspectCommand(io: CliIo, recording: string, opts: { json?: boolean }): Promise<number> {
  const r = await inspectRecording(resolve(recording));
  io.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : text(r));
  if (r.failed) io.stderr.write(`fiberrig: ${r.recording} is a FAILED acquisition: ${r.failed.error}\n`);
  if (r.status === 'damaged') io.stderr.write(`fiberrig: the raw log is damaged (${r.damage.spanCount} span(s), ${r.damage.lostDetectorSamples} detector samples lost); the rest was read\n`);
  return r.status === 'damaged' ? EXIT_DAMAGED_RAW_LOG : 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .option('--in <recording>', 'recording directory (or its raw.fjl)')
    .argument('[recording]', 'deprecated: the recording as a positional argument (write --in RECORDING)')
    .option('--json', 'print JSON on stdout')
    .action((positional: string | undefined, opts: { in?: string; json?: boolean }) => run(() => {
      const recording = flagOrPositional(io, { flag: '--in', value: opts.in, positional, command: 'inspect', example: 'fiberrig inspect --in recordings/2024-…' });
      return inspectCommand(io, recording, opts);
    })());
}
