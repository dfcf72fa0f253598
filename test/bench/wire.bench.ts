// Wire overhead as users run it: a simulated acquisition with the default
// configuration, exactly as
//   fiberrig acquire --device 'sim://sleep?seed=1&speed=max' --duration 300s --out DIR --json --quiet
// then its raw log read back (test/support/wire-overhead.ts): every byte on the
// wire (detector and aux blocks, status, heartbeats and their acks, events,
// replies) against the sample payload bytes, in total, per message kind, and,
// for sample blocks, where the bytes go (delimiter, COBS, CRC, Envelope,
// each SampleBlock field).
//
// At speed=max the host's heartbeats (every heartbeatTimeoutMs / 4 of wall
// time, host/rig/rig.ts) are far fewer per simulated second than in a real-time
// run: `wire.overhead.all_realtime` replaces the logged heartbeat round trips by
// as many as a real-time run of the same length sends (same frame sizes).
//
// Baselines in the same run: the synthetic figure protocol.bench.ts reports (one
// 256-sample x 4-channel int16 block, framed), as a share of the frame; and the
// same acquisition with 250-sample detector and aux blocks (the default before
// protocol 1.2), `wire.overhead.all_realtime.baseline_250`.
//
// `FIBERRIG_BENCH_WIRE_S` overrides the simulated seconds (default 300).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../host/cli/main.ts';
import { DEFAULT_LOCKIN_CONFIG } from '../../host/config/acquisition.ts';
import { RAW_LOG_FILE_NAME } from '../../host/record/rawlog-format.ts';
import { encodeEnvelope, encodeFrame, packSamples, SampleFormat, SampleSource } from '../../protocol/index.ts';
import { measureWireOverhead } from '../support/wire-overhead.ts';
import type { Emit } from './run.ts';

const URL = 'sim://sleep?seed=1&speed=max';

/** The synthetic block of protocol.bench.ts: 256 samples x 4 channels int16 (2048 payload bytes), framed. */
function syntheticBlockOverhead(): { frameBytes: number; rawBytes: number } {
  const samples = new Int16Array(256 * 4);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(20000 * Math.sin(i * 0.05));
  const frame = encodeFrame(encodeEnvelope({
    sampleBlock: {
      configId: 3, source: SampleSource.SAMPLE_SOURCE_DETECTOR, firstSampleIndex: 1_000_000, sampleCount: 256, channelIds: [0, 1, 2, 3],
      format: SampleFormat.SAMPLE_FORMAT_INT16_LE, samples: packSamples(SampleFormat.SAMPLE_FORMAT_INT16_LE, samples),
    },
  }));
  return { frameBytes: frame.length, rawBytes: samples.length * 2 };
}

const HEARTBEAT_INTERVAL_MS = Math.max(50, Math.floor(DEFAULT_LOCKIN_CONFIG.heartbeatTimeoutMs / 4));

/** Heartbeat round trips a real-time run of `seconds` makes: one per heartbeat interval. */
function realtimeRoundTrips(seconds: number): number {
  return Math.floor((seconds * 1000) / HEARTBEAT_INTERVAL_MS);
}

/** All bytes on the wire with the logged heartbeat round trips replaced by a real-time run's (same frame sizes). */
function realtimeWireBytes(w: Awaited<ReturnType<typeof measureWireOverhead>>, seconds: number): number {
  const roundTrips = realtimeRoundTrips(seconds);
  let realtimeWire = w.wireBytes;
  for (const kind of ['heartbeat (host)', 'heartbeatAck']) {
    const t = w.byKind.get(kind);
    if (!t || t.frames === 0) throw new Error(`no ${kind} frame in the raw log`);
    realtimeWire += (roundTrips - t.frames) * (t.wireBytes / t.frames);
  }
  return realtimeWire;
}

export async function run(emit: Emit): Promise<void> {
  const seconds = Number(process.env.FIBERRIG_BENCH_WIRE_S ?? 300);
  const command = `fiberrig acquire --device '${URL}' --duration ${seconds}s --out DIR --json --quiet`;
  const config = {
    blockSamples: DEFAULT_LOCKIN_CONFIG.blockSamples, auxBlockSamples: DEFAULT_LOCKIN_CONFIG.aux?.blockSamples ?? DEFAULT_LOCKIN_CONFIG.blockSamples,
    statusIntervalMs: DEFAULT_LOCKIN_CONFIG.statusIntervalMs,
  };

  const synthetic = syntheticBlockOverhead();
  emit({
    name: 'wire.overhead.synthetic_block', value: (100 * (synthetic.frameBytes - synthetic.rawBytes)) / synthetic.frameBytes, unit: '% of frame bytes',
    frameBytes: synthetic.frameBytes, rawBytes: synthetic.rawBytes, note: 'baseline: the 2048-byte block of protocol.bench.ts (which reports it as % of raw bytes)',
  });

  const dir = await mkdtemp(join(tmpdir(), 'fiberrig-bench-wire-'));
  try {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const code = await main(['acquire', '--device', URL, '--duration', `${seconds}s`, '--out', join(dir, 'rec'), '--json', '--quiet'], { stdout: sink, stderr: sink });
    if (code !== 0) throw new Error(`acquire exited with ${code}`);
    const w = await measureWireOverhead(join(dir, 'rec', RAW_LOG_FILE_NAME));
    if (w.rejectedFrames !== 0) throw new Error(`${w.rejectedFrames} frames in the raw log failed to decode`);
    emit({
      name: 'wire.overhead.all', value: w.overheadPct, unit: '% of all bytes on the wire', wireBytes: w.wireBytes, sampleBytes: w.sampleBytes,
      simulatedS: seconds, ...config, note: command,
    });
    const realtimeWire = realtimeWireBytes(w, seconds);
    emit({
      name: 'wire.overhead.all_realtime', value: (100 * (realtimeWire - w.sampleBytes)) / realtimeWire, unit: '% of all bytes on the wire',
      heartbeatRoundTrips: realtimeRoundTrips(seconds), heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, note: 'as wire.overhead.all, with the heartbeats of a real-time run',
    });
    // baseline in the same run: the same acquisition with the block sizes before protocol 1.2 (250 samples, aux alike)
    const { aux, ...rest } = DEFAULT_LOCKIN_CONFIG;
    const baselineFile = join(dir, 'baseline-250.json');
    await writeFile(baselineFile, JSON.stringify({ ...rest, blockSamples: 250, ...(aux ? { aux: { inputs: aux.inputs, rateHz: aux.rateHz } } : {}) }));
    const baseCode = await main(['acquire', '--device', URL, '--duration', `${seconds}s`, '--config', baselineFile, '--out', join(dir, 'base'), '--json', '--quiet'], { stdout: sink, stderr: sink });
    if (baseCode !== 0) throw new Error(`baseline acquire exited with ${baseCode}`);
    const b = await measureWireOverhead(join(dir, 'base', RAW_LOG_FILE_NAME));
    const baseRealtime = realtimeWireBytes(b, seconds);
    const basePct = (100 * (baseRealtime - b.sampleBytes)) / baseRealtime;
    emit({
      name: 'wire.overhead.all_realtime.baseline_250', value: basePct, unit: '% of all bytes on the wire', blockSamples: 250, auxBlockSamples: 250,
      ratio: (100 * (realtimeWire - w.sampleBytes)) / realtimeWire / basePct, note: 'the same run with 250-sample detector and aux blocks (the default before protocol 1.2); ratio = default / this',
    });
    for (const [kind, t] of [...w.byKind].sort((a, b) => b[1].wireBytes - a[1].wireBytes)) {
      const overheadBytes = t.wireBytes - t.sampleBytes;
      emit({
        name: `wire.overhead.kind.${kind.replace(/[^A-Za-z]+/g, '_')}`, value: (100 * overheadBytes) / w.wireBytes, unit: '% of all bytes on the wire',
        ownPct: t.wireBytes > 0 ? (100 * overheadBytes) / t.wireBytes : 0, frames: t.frames, wireBytes: t.wireBytes, sampleBytes: t.sampleBytes,
        overheadBytesPerFrame: overheadBytes / t.frames,
      });
    }
    for (const [kind, parts] of w.blockParts) {
      const frames = w.byKind.get(kind)?.frames ?? 0;
      if (frames === 0) continue;
      const perBlock = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / frames]));
      const sum = Object.values(parts).reduce((a, b) => a + b, 0);
      emit({ name: `wire.overhead.block_parts.${kind}`, value: sum / frames, unit: 'overhead bytes per block', ...perBlock });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
