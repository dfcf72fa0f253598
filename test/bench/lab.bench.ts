// The lab's CPU cost per rig (issue 19): a 10 min raw log of the default lock-in configuration
// (synthesized as record.bench.ts does) is mirrored into a local nats-server by the agent's
// RawLogMirror, then written by the archive's consumer, each timed by CPU (this process's
// process.cpuUsage, the server's /proc/PID/stat) and scaled to one rig-hour. Baseline in the
// same run: reading and cutting the same file into records with no broker. One process does
// one stage at a time; on the shared 2-core machine expect ±20 %.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { LabArchive } from '../../host/lab/archive.ts';
import { connectBroker, ensureRawStream } from '../../host/lab/broker.ts';
import { RAW_STREAM, rawSubject } from '../../host/lab/layout.ts';
import { RawLogMirror } from '../../host/lab/mirror.ts';
import { WindowPublisher } from '../../host/lab/window-publisher.ts';
import { cutRecords } from '../../host/lab/record-cutter.ts';
import { NatsServer, natsServerMissing } from '../support/nats-server.ts';
import { synthesize } from './record.bench.ts';
import type { Emit } from './run.ts';

const LOG_S = 600;

const cpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU seconds of another process (Linux /proc; NaN elsewhere). */
function pidCpuS(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export async function run(emit: Emit): Promise<void> {
  const missing = natsServerMissing();
  if (missing) {
    emit({ name: 'lab mirror CPU per rig-hour', value: null, unit: 's', reason: missing });
    return;
  }
  const tmp = await mkdtemp(join(tmpdir(), 'fiberrig-bench-lab-'));
  const server = await NatsServer.start();
  const nc = await connectBroker({ url: server.url });
  try {
    const rawLogPath = join(tmp, 'raw.fjl');
    await synthesize(rawLogPath, LOG_S);
    const bytes = statSync(rawLogPath).size;
    const perRigHour = 3600 / LOG_S;
    const note = `${LOG_S} s default lock-in raw log, ${(bytes / 1e6).toFixed(1)} MB`;

    // baseline: read and cut into records, no broker
    let c0 = cpuS();
    const fh = await open(rawLogPath, 'r');
    let offset = 0;
    let records = 0;
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      const cut = cutRecords(buf.subarray(0, bytesRead), offset);
      records += cut.records.length;
      offset += cut.consumed;
      if (cut.consumed === 0) break;
    }
    await fh.close();
    const cutCpu = cpuS() - c0;
    emit({ name: 'lab baseline: read + cut records CPU per rig-hour', value: cutCpu * perRigHour, unit: 's', records, note });

    // before (same run): the mirror publishing through the client's js.publish (a request per record); then purged
    await ensureRawStream(nc);
    const viaClient = await RawLogMirror.create({ js: jetstream(nc), rig: 'bench', session: 's0', rawLogPath, checkpointPath: join(tmp, 'mirror-s0.json') });
    c0 = cpuS();
    await viaClient.finish();
    const clientCpu = cpuS() - c0;
    emit({ name: 'lab mirror (agent) CPU per record, js.publish per record (before)', value: (clientCpu / records) * 1e6, unit: 'µs', note });
    await (await jetstreamManager(nc)).streams.purge(RAW_STREAM, { filter: rawSubject('bench', 's0') });

    // the agent's mirror: everything published and acknowledged, then the end marker
    const publisher = new WindowPublisher(nc);
    const mirror = await RawLogMirror.create({ js: publisher, rig: 'bench', session: 's1', rawLogPath, checkpointPath: join(tmp, 'mirror.json') });
    c0 = cpuS();
    let s0 = pidCpuS(server.pid);
    let t0 = performance.now();
    await mirror.finish();
    const mirrorCpu = cpuS() - c0;
    const mirrorServerCpu = pidCpuS(server.pid) - s0;
    const mirrorWallS = (performance.now() - t0) / 1000;
    emit({ name: 'lab mirror (agent) CPU per rig-hour', value: mirrorCpu * perRigHour, unit: 's', ratioToBaseline: mirrorCpu / cutCpu, records, note });
    // per record: a rig's cost is its record rate times this (the synthesized log has ~11.5 records/s; a real-time
    // simulated rig's raw log ~49/s, its serial reads being smaller)
    emit({ name: 'lab mirror (agent) CPU per record', value: (mirrorCpu / records) * 1e6, unit: 'µs', ratioToJsPublish: mirrorCpu / clientCpu, note });
    publisher.close();
    emit({ name: 'lab mirror throughput', value: LOG_S / mirrorWallS, unit: 'x real time', recordsPerS: records / mirrorWallS, note });
    emit({ name: 'lab broker CPU per rig-hour (mirror publishing)', value: mirrorServerCpu * perRigHour, unit: 's', note });

    // the archive: consume, write at offsets, fsync per batch, verify (no demod)
    const archive = new LabArchive({ nc, dir: join(tmp, 'archive'), demod: false });
    c0 = cpuS();
    s0 = pidCpuS(server.pid);
    t0 = performance.now();
    await archive.start();
    while (!existsSync(join(tmp, 'archive', 'bench', 's1', 'archived.json'))) await new Promise((r) => setTimeout(r, 20));
    const archiveWallS = (performance.now() - t0) / 1000;
    const archiveCpu = cpuS() - c0;
    const archiveServerCpu = pidCpuS(server.pid) - s0;
    await archive.stop();
    const identical = readFileSync(join(tmp, 'archive', 'bench', 's1', 'raw.fjl')).equals(readFileSync(rawLogPath));
    emit({ name: 'lab archive CPU per rig-hour', value: archiveCpu * perRigHour, unit: 's', ratioToBaseline: archiveCpu / cutCpu, identical, note });
    emit({ name: 'lab archive CPU per record', value: (archiveCpu / records) * 1e6, unit: 'µs', note });
    emit({ name: 'lab archive throughput', value: LOG_S / archiveWallS, unit: 'x real time', note });
    emit({ name: 'lab broker CPU per rig-hour (archive consuming)', value: archiveServerCpu * perRigHour, unit: 's', note });
  } finally {
    await nc.close();
    await server.dispose();
    await rm(tmp, { recursive: true, force: true });
  }
}
