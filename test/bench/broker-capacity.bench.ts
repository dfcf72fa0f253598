// How many default-config rigs one broker carries on this machine (issue 19, acceptance 5):
// zero loss and archive lag p99 ≤ 1 s, stepping the rig count up until either fails.
// Each rig is a synthesized real-rate raw log (49 records/s of 959 bytes: ~47 KB/s, what a
// default lock-in rig writes at real time) mirrored by the agent's RawLogMirror over its own
// connection, all rigs in this process; the archive is a `fiberrig archive --no-demod` child
// process; one local nats-server. Lag = time from a record's write to the local raw log until
// the archive acknowledged it (it acknowledges after the fsync): the consumer's ack floor, polled
// every 100 ms, against each record's stream sequence from its PubAck (so up to 100 ms late).
// Loss = a session not archived byte-identical within 30 s of its end.
// CPU per rig: this process (writers + mirrors: the agents), the archive's and the broker's
// /proc CPU, each over the step's wall time, per rig. Expect ±20 % on the shared 2-core machine.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstreamManager, type PubAck } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { connectBroker, ensureArchiveConsumer, ensureRawStream } from '../../host/lab/broker.ts';
import { ARCHIVE_CONSUMER, RAW_STREAM } from '../../host/lab/layout.ts';
import { RawLogMirror } from '../../host/lab/mirror.ts';
import { type RecordPublisher, WindowPublisher } from '../../host/lab/window-publisher.ts';
import { encodeRecordBytes, RecordType } from '../../host/record/rawlog-format.ts';
import { NatsServer, natsServerMissing } from '../support/nats-server.ts';
import type { Emit } from './run.ts';

const RECORDS_PER_S = 49;
const RECORD_PAYLOAD_BYTES = 959 - 20; // + the record's framing ≈ 959 bytes per record
const STEP_S = 10;
const RIG_STEPS = [4, 16, 64, 128, 192, 256, 320];
const LAG_LIMIT_MS = 1000;

const cpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function pidCpuS(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SimRig {
  name: string;
  path: string;
  fd: number;
  written: number;
  /** End offset and write time of each record, in order. */
  ends: number[];
  times: number[];
  nc: NatsConnection;
  publisher: WindowPublisher;
  mirror: RawLogMirror;
}

interface StepResult {
  rigs: number;
  lost: number;
  /** The stream's growth over the step and what the rigs' raw logs hold (records + end markers). */
  streamBytes: number;
  streamMessages: number;
  rawBytes: number;
  lagP99Ms: number;
  lagMaxMs: number;
  agentCpuPerRig: number;
  archiveCpuPerRig: number;
  brokerCpuPerRig: number;
}

/** Write time of each stored message, by stream sequence (learnt from the PubAcks). */
const writtenAtBySeq = new Map<number, number>();

/** Notes each record's stream sequence against its write time. */
function tracking(inner: RecordPublisher, times: number[]): RecordPublisher {
  return {
    publish: (subject: string, data: Uint8Array | string, options: { msgID: string; headers: MsgHdrs; timeout: number }): Promise<PubAck> => {
      const p = inner.publish(subject, data, options);
      const index = Number(options.msgID.slice(options.msgID.lastIndexOf('.') + 1));
      void p.then((ack) => {
        if (!ack.duplicate && Number.isInteger(index)) writtenAtBySeq.set(ack.seq, times[index]!);
      }, () => undefined);
      return p;
    },
  };
}

async function step(server: NatsServer, nc: NatsConnection, archiveDir: string, archivePid: number | undefined, tmp: string, rigs: number, session: string): Promise<StepResult> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const sims: SimRig[] = [];
  for (let i = 0; i < rigs; i++) {
    const name = `rig-${i}`;
    const dir = join(tmp, name, session);
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'raw.fjl');
    const nc = await connectBroker({ url: server.url, name });
    const publisher = new WindowPublisher(nc);
    const times: number[] = [];
    const mirror = await RawLogMirror.create({ js: tracking(publisher, times), rig: name, session, rawLogPath: path, checkpointPath: join(dir, 'mirror.json') });
    sims.push({ name, path, fd: openSync(path, 'w'), written: 0, ends: [], times, nc, publisher, mirror });
  }
  const payload = new Uint8Array(RECORD_PAYLOAD_BYTES).fill(7);
  const lags: number[] = [];
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const floor = (await jsm.consumers.info(RAW_STREAM, ARCHIVE_CONSUMER)).ack_floor.stream_seq;
      const now = performance.now();
      for (const [seq, at] of writtenAtBySeq) {
        if (seq > floor) continue;
        lags.push(now - at);
        writtenAtBySeq.delete(seq);
      }
    } finally {
      polling = false;
    }
  };
  const before = (await jsm.streams.info(RAW_STREAM)).state;
  const c0 = cpuS();
  const a0 = pidCpuS(archivePid);
  const b0 = pidCpuS(server.pid);
  const t0 = performance.now();
  for (const s of sims) s.mirror.start();
  // writers: every 20 ms each rig appends what its real rate owes
  let seq = 0;
  const writer = setInterval(() => {
    const now = performance.now();
    const owed = Math.floor(((now - t0) / 1000) * RECORDS_PER_S);
    for (const s of sims) {
      while (s.ends.length < owed) {
        const rec = encodeRecordBytes(RecordType.rx, seq++, payload);
        writeSync(s.fd, rec);
        s.written += rec.length;
        s.ends.push(s.written);
        s.times.push(performance.now());
      }
    }
  }, 20);
  const poller = setInterval(() => { void poll(); }, 100);
  await sleep(STEP_S * 1000);
  clearInterval(writer);
  const wallS = (performance.now() - t0) / 1000;
  const agentCpu = cpuS() - c0;
  const archiveCpu = pidCpuS(archivePid) - a0;
  const brokerCpu = pidCpuS(server.pid) - b0;
  for (const s of sims) closeSync(s.fd);
  await Promise.all(sims.map((s) => s.mirror.finish()));
  const until = Date.now() + 30_000;
  let pending = sims;
  while (pending.length > 0 && Date.now() < until) {
    pending = pending.filter((s) => !existsSync(join(archiveDir, s.name, session, 'archived.json')));
    await sleep(100);
  }
  clearInterval(poller);
  const records = sims.reduce((n, s) => n + s.ends.length, 0);
  // the last acks may still be on their way to the server
  for (const last = Date.now() + 5000; lags.length < records && Date.now() < last; await sleep(100)) {
    while (polling) await sleep(10);
    await poll();
  }
  let lost = 0;
  for (const s of sims) {
    const copy = join(archiveDir, s.name, session, 'raw.fjl');
    if (!existsSync(join(archiveDir, s.name, session, 'archived.json')) || !readFileSync(copy).equals(readFileSync(s.path))) lost += 1;
    s.publisher.close();
    await s.nc.close();
  }
  lags.sort((x, y) => x - y);
  const after = (await jsm.streams.info(RAW_STREAM)).state;
  if (lags.length < records) lost = Math.max(lost, 1); // a record never acknowledged by the archive
  return {
    rigs, lost,
    streamBytes: after.bytes - before.bytes, streamMessages: after.messages - before.messages, rawBytes: sims.reduce((n, s) => n + s.written, 0),
    lagP99Ms: lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))] ?? Number.NaN,
    lagMaxMs: lags[lags.length - 1] ?? Number.NaN,
    agentCpuPerRig: agentCpu / wallS / rigs,
    archiveCpuPerRig: archiveCpu / wallS / rigs,
    brokerCpuPerRig: brokerCpu / wallS / rigs,
  };
}

export async function run(emit: Emit): Promise<void> {
  const missing = natsServerMissing();
  if (missing) {
    emit({ name: 'lab rigs per broker', value: null, unit: 'rigs', reason: missing });
    return;
  }
  const tmp = await mkdtemp(join(tmpdir(), 'fiberrig-bench-rigs-'));
  const server = await NatsServer.start();
  const archiveDir = join(tmp, 'archive');
  const nc = await connectBroker({ url: server.url });
  await ensureRawStream(nc);
  await ensureArchiveConsumer(nc);
  const archive = spawn(process.execPath, [resolve('host/cli/bin.js'), 'archive', '--nats', server.url, '--dir', archiveDir, '--no-demod'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let archiveLog = '';
  archive.stderr!.on('data', (d: Buffer) => { archiveLog += d.toString(); });
  try {
    while (!archiveLog.includes('consuming into')) {
      if (archive.exitCode !== null) throw new Error(`fiberrig archive exited: ${archiveLog}`);
      await sleep(50);
    }
    const note = `${RECORDS_PER_S} records/s of ${RECORD_PAYLOAD_BYTES + 20} bytes per rig, ${STEP_S} s per step, archive --no-demod in its own process`;
    let carried = 0;
    let allPassed = true;
    for (const [i, rigs] of RIG_STEPS.entries()) {
      const r = await step(server, nc, archiveDir, archive.pid, tmp, rigs, `s${i}`);
      const ok = r.lost === 0 && r.lagP99Ms <= LAG_LIMIT_MS;
      if (i === 0) {
        // storage: what JetStream adds to each record (subject, headers with the message id, its own framing)
        emit({ name: 'lab stream bytes per raw-log byte', value: r.streamBytes / r.rawBytes, unit: 'ratio', streamBytes: r.streamBytes, rawBytes: r.rawBytes, messages: r.streamMessages, note });
        emit({ name: 'lab stream overhead per message', value: (r.streamBytes - r.rawBytes) / r.streamMessages, unit: 'bytes', note: 'end markers (one per session) counted as overhead' });
      }
      emit({ name: `lab ${rigs} rigs: archive lag p99`, value: r.lagP99Ms, unit: 'ms', maxMs: r.lagMaxMs, lostSessions: r.lost, ok, note });
      emit({ name: `lab ${rigs} rigs: agent (mirror) CPU per rig`, value: r.agentCpuPerRig * 100, unit: '% of a core', note: 'writers + mirrors in one process, divided by the rigs' });
      emit({ name: `lab ${rigs} rigs: archive CPU per rig`, value: r.archiveCpuPerRig * 100, unit: '% of a core' });
      emit({ name: `lab ${rigs} rigs: broker CPU per rig`, value: r.brokerCpuPerRig * 100, unit: '% of a core' });
      if (!ok) {
        allPassed = false;
        break;
      }
      carried = rigs;
    }
    // every step passed: the figure is a lower bound (the steps stop at RIG_STEPS' last)
    emit({ name: 'lab rigs one broker carries (zero loss, archive lag p99 ≤ 1 s)', value: carried, unit: 'rigs', atLeast: allPassed, stepsTried: RIG_STEPS, note });
  } finally {
    archive.kill('SIGTERM');
    await new Promise((r) => archive.once('exit', r));
    await nc.close();
    await server.dispose();
    await rm(tmp, { recursive: true, force: true });
  }
}
