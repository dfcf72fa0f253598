// `fiberrig archive`: the lab's central archive (host/lab/archive.ts) — every session mirrored
// by the agents, byte-identical, in DIR/<rig>/<session>/, then demodulated. Logs on stderr;
// with --json each archived session is a JSON line on stdout. SIGINT or SIGTERM: writes and
// acknowledges what it holds, then exits (what is not acknowledged is redelivered later).
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type ArchiveEvent, LabArchive } from '../../lab/archive.ts';
import { connectBroker } from '../../lab/broker.ts';
import { addBrokerOptions, brokerOptions, type LabCliOptions, processSignal, replicasOption } from '../lab-options.ts';
import type { CliIo, Runner } from '../main.ts';

export interface ArchiveOptions extends LabCliOptions {
  dir: string;
  demod: boolean;
  json?: boolean;
}

function describe(e: ArchiveEvent): string {
  switch (e.type) {
    case 'session-archived': return `${e.rig}/${e.session}: archived, identical (${e.marker.records} records, ${e.marker.bytes} bytes, sha256 ${e.marker.sha256.slice(0, 12)}…)`;
    case 'session-incomplete': return `${e.rig}/${e.session}: end marker before all records (${e.haveBytes} of ${e.wantBytes} bytes); retrying`;
    case 'demod-done': return `${e.rig}/${e.session}: demod wrote ${e.signalRows} signal rows`;
    case 'demod-failed': return `${e.rig}/${e.session}: demod failed: ${e.message}`;
    case 'message-refused': return `refused a message on ${e.subject}: ${e.reason}`;
    case 'progress-unavailable': return `per-session progress not published (${e.reason}): give this user the fiberrig_archive bucket's permissions (host/lab/README.md)`;
  }
}

export async function archiveCommand(io: CliIo, opts: ArchiveOptions): Promise<number> {
  const broker = brokerOptions(opts, 'fiberrig-archive');
  const replicas = replicasOption(opts);
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const nc = await connectBroker(broker);
  const log = (line: string): void => { io.stderr.write(`fiberrig archive: ${line}\n`); };
  const archive = new LabArchive({
    nc, dir, demod: opts.demod, replicas,
    onEvent: (e) => {
      log(describe(e));
      if (opts.json && e.type === 'session-archived') io.stdout.write(`${JSON.stringify({ ...e.marker, marks: undefined })}\n`);
    },
  });
  try {
    await archive.start();
  } catch (error) {
    await nc.close();
    throw error;
  }
  log(`consuming into ${dir}`);
  const signal = await processSignal();
  log(`${signal}: stopping`);
  await archive.stop();
  await nc.drain().catch(() => undefined);
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  addBrokerOptions(command)
    .requiredOption('--dir <dir>', 'archive directory: DIR/<rig>/<session>/raw.fjl and its derived files')
    .option('--no-demod', 'do not run demod on completed sessions')
    .option('--json', 'print each archived session as a JSON line on stdout')
    .action((opts: ArchiveOptions) => run(() => archiveCommand(io, opts))());
}
