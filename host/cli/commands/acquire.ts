// `fiberrig acquire`: configure, start, record demodulated signals, show
// progress on stderr, stop at the duration (device time) or on Ctrl-C, and
// print a summary on stdout (JSON with --json).
import { join, resolve } from 'node:path';
import { Subscription } from 'rxjs';
import { Edge } from '../../../protocol/index.ts';
import {
  type AcquisitionFile, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig, toWireConfig,
} from '../../config/acquisition.ts';
import { demodulate, type SignalBlock } from '../../pipeline/demodulate.ts';
import { SignalFiles } from '../../record/signal-files.ts';
import { Rig, type RigOptions } from '../../rig/rig.ts';
import type { CliIo } from '../main.ts';
import { formatDuration, parseDuration } from '../duration.ts';

export interface AcquireOptions {
  device: string;
  config?: string;
  duration?: string;
  out?: string;
  json?: boolean;
  subject?: string;
  quiet?: boolean;
}

export interface AcquireSummary {
  recording: string;
  device: string;
  firmware: string;
  mode: string;
  durationS: number;
  rawSamples: number;
  signalRows: number;
  outputRateHz: number;
  channels: Array<{ name: string; mean: number; min: number; max: number }>;
  gaps: number;
  missingSamples: number;
  deviceDroppedSamples: number;
  framesRejected: Record<string, number>;
  reconnects: number;
  stoppedBy: 'duration' | 'signal' | 'error';
}

function defaultOutDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return resolve('recordings', stamp);
}

export async function acquireCommand(io: CliIo, opts: AcquireOptions, rigOptions: RigOptions = {}): Promise<number> {
  const file: AcquisitionFile = opts.config ? await loadAcquisitionConfig(opts.config) : DEFAULT_LOCKIN_CONFIG;
  const durationS = parseDuration(opts.duration ?? '10m');
  const outDir = resolve(opts.out ?? defaultOutDir());
  const wire = toWireConfig(file);
  const log = (line: string): void => {
    if (!opts.quiet) io.stderr.write(`${line}\n`);
  };

  const rig = await Rig.connect(opts.device, rigOptions);
  const files = await SignalFiles.create(outDir);
  const subscriptions = new Subscription();
  let stoppedBy: AcquireSummary['stoppedBy'] = 'duration';
  let failure: Error | undefined;
  try {
    log(`fiberrig: ${rig.info.firmwareName} ${rig.info.firmwareVersion} on ${rig.info.boardModel} (${opts.device})`);
    await rig.configure(wire);
    const rateHz = file.sampleRateHz;
    const targetSamples = Math.round(durationS * rateHz);
    const timerHz = rig.info.timerClockHz || 1;
    const fullScale = Math.max(...rig.info.detectors.map((d) => 2 ** d.adcBits - 1), 1);
    const stats = new Map<string, { sum: number; n: number; min: number; max: number; last: number }>();
    let rawSamples = 0;
    let sessionEnd = 0;
    let gaps = 0;
    let clipped = 0;
    let outputRateHz = 0;

    const done = new Promise<void>((resolveDone) => {
      const onSignal = (): void => { stoppedBy = 'signal'; resolveDone(); };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      subscriptions.add(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });

      subscriptions.add(rig.acquisition$.subscribe({
        next: (item) => {
          if (item.kind === 'gap') {
            gaps++;
            const rate = item.source === 'aux' ? file.aux?.rateHz ?? rateHz : rateHz;
            files.writeGap({ source: item.source, startS: item.sessionIndex / rate, durationS: item.count / rate, samples: item.count, reason: item.reason, estimated: item.estimated });
            return;
          }
          if (item.source !== 'detector') return;
          rawSamples += item.sampleCount;
          sessionEnd = item.sessionIndex + item.sampleCount;
          const s = item.samples;
          for (let i = 0; i < s.length; i++) if (s[i]! >= fullScale) clipped++;
          if (sessionEnd >= targetSamples) resolveDone();
        },
        error: (e: Error) => { failure = e; stoppedBy = 'error'; resolveDone(); },
      }));
      subscriptions.add(rig.acquisition$.pipe(demodulate(wire, rig.info, {
        outputRateHz: file.outputRateHz,
        ...(file.lowpassHz !== undefined ? { lowpassHz: file.lowpassHz } : {}),
        ...(file.auxOutputRateHz !== undefined ? { auxOutputRateHz: file.auxOutputRateHz } : {}),
      })).subscribe({
        next: (block: SignalBlock) => {
          if (block.stream === 'signals') {
            outputRateHz = block.rateHz;
            // keep rows up to the requested duration only
            const limit = Math.max(0, Math.min(block.count, Math.round(durationS * block.rateHz) - block.firstIndex));
            if (limit <= 0) return;
            const trimmed = limit < block.count ? { ...block, count: limit, values: block.values.map((v) => v.subarray(0, limit)) } : block;
            files.writeSignals(trimmed);
            block.channels.forEach((c, i) => {
              const st = stats.get(c.name) ?? { sum: 0, n: 0, min: Infinity, max: -Infinity, last: Number.NaN };
              const values = trimmed.values[i]!;
              for (let k = 0; k < trimmed.count; k++) {
                const v = values[k]!;
                if (Number.isNaN(v)) continue;
                st.sum += v; st.n++; st.min = Math.min(st.min, v); st.max = Math.max(st.max, v); st.last = v;
              }
              stats.set(c.name, st);
            });
          } else {
            files.writeSignals(block);
          }
        },
        error: (e: Error) => { failure = e; stoppedBy = 'error'; resolveDone(); },
      }));
      subscriptions.add(rig.digitalEvents$.subscribe((e) => {
        files.writeEvent({ timeS: e.sessionIndex / rateHz + e.subsampleTicks / timerHz, kind: 'digital', line: e.line, value: e.edge === Edge.EDGE_RISING ? 'rising' : 'falling' });
      }));
      subscriptions.add(rig.ledEvents$.subscribe((e) => {
        files.writeEvent({ timeS: e.sessionIndex / rateHz, kind: 'led', line: e.channel, value: `${e.currentMa}mA` });
      }));
    });

    const started = Date.now();
    const progress = setInterval(() => {
      const h = rig.linkHealth();
      const elapsed = sessionEnd / rateHz;
      const levels = [...stats.entries()].map(([name, st]) => `${name}=${Number.isNaN(st.last) ? '-' : st.last.toFixed(1)}`).join(' ');
      const wallS = (Date.now() - started) / 1000;
      log(`  ${formatDuration(elapsed)} / ${formatDuration(durationS)}  ${rawSamples} samples  ${(rawSamples / Math.max(wallS, 1e-3) / 1000).toFixed(1)} kS/s  gaps ${gaps}  rejected ${Object.values(h.framesRejected).reduce((a, b) => a + b, 0)}  clipped ${clipped}  ${levels}`);
    }, 1000);
    progress.unref();

    await rig.start();
    log(`recording to ${outDir} for ${formatDuration(durationS)} of device time`);
    await done;
    clearInterval(progress);
    if (rig.running) await rig.stop().catch(() => undefined);
    const health = rig.linkHealth();
    const summary: AcquireSummary = {
      recording: outDir,
      device: opts.device,
      firmware: `${rig.info.firmwareName} ${rig.info.firmwareVersion}`,
      mode: file.mode,
      durationS: Math.min(sessionEnd, targetSamples) / rateHz,
      rawSamples,
      signalRows: files.signalRows,
      outputRateHz,
      channels: [...stats.entries()].map(([name, st]) => ({ name, mean: st.n ? st.sum / st.n : Number.NaN, min: st.min, max: st.max })),
      gaps,
      missingSamples: health.hostDetectedMissingSamples,
      deviceDroppedSamples: health.deviceReportedDroppedSamples,
      framesRejected: health.framesRejected,
      reconnects: health.reconnects,
      stoppedBy,
    };
    await files.close();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(outDir, 'summary.json'), `${JSON.stringify({ ...summary, config: file, subject: opts.subject ?? null }, null, 2)}\n`);
    if (opts.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
    else io.stdout.write(`recorded ${formatDuration(summary.durationS)} (${summary.signalRows} rows at ${outputRateHz} Hz, ${gaps} gaps) to ${outDir}\n`);
    if (failure) throw failure;
    return 0;
  } finally {
    subscriptions.unsubscribe();
    await rig.close().catch(() => undefined);
  }
}
