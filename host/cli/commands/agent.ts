// `fiberrig agent`: runs beside a rig and puts it on the lab's NATS broker (host/lab/agent.ts):
// fleet entry, commands, local recording mirrored into JetStream, live signals. Logs on
// stderr; with --json each finished recording's summary is a JSON line on stdout. SIGINT or
// SIGTERM stops a running recording, lets the mirror deliver it, and leaves the fleet.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { analysisInputOutputs } from '../../analysis/input-file.ts';
import { type AcquisitionFile, loadAcquisitionConfig } from '../../config/acquisition.ts';
import { type AgentEvent, LabAgent } from '../../lab/agent.ts';
import { connectBroker } from '../../lab/broker.ts';
import { checkToken } from '../../lab/layout.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import { FiberrigError } from '../../../protocol/index.ts';
import '../devices.ts';
import { parseDuration } from '../duration.ts';
import { addBrokerOptions, brokerOptions, type LabCliOptions, processSignal, replicasOption } from '../lab-options.ts';
import type { CliIo, Runner } from '../main.ts';

export interface AgentOptions extends LabCliOptions {
  rig: string;
  device: string;
  dir?: string;
  config?: string;
  ttl: string;
  json?: boolean;
}

function describe(e: AgentEvent): string | undefined {
  switch (e.type) {
    case 'command': return `command ${e.command}: ${e.ok ? 'ok' : `refused (${e.code})`}`;
    case 'recording-started': return `recording ${e.session} into ${e.outDir}`;
    case 'recording-finished': return `recording ${e.session} ended (${e.result.summary.stoppedBy}${e.result.error ? `: ${e.result.error.message}` : ''})`;
    case 'mirror':
      if (e.event.type === 'publish-failed') return `mirror ${e.session}: broker not acknowledging (${e.event.message}); recording goes on locally, ${e.event.ackedBytes} bytes acknowledged`;
      if (e.event.type === 'resumed') return `mirror ${e.session}: broker back, back-filling from byte ${e.event.ackedBytes}`;
      return `mirror ${e.session}: complete (${e.event.marker.records} records, ${e.event.marker.bytes} bytes)`;
    case 'registry-failed': return `fleet entry not refreshed: ${e.message}`;
  }
}

export async function agentCommand(io: CliIo, opts: AgentOptions): Promise<number> {
  const rigName = checkToken('rig', opts.rig);
  checkDeviceUrl(opts.device);
  const ttlMs = parseDuration(opts.ttl) * 1000;
  if (ttlMs < 1000) throw new FiberrigError('E_USAGE', `--ttl ${opts.ttl} is shorter than 1 s`, 'give at least 1s (the entry is refreshed every third of it)');
  const broker = brokerOptions(opts, `fiberrig-agent-${rigName}`);
  const replicas = replicasOption(opts);
  const file: AcquisitionFile | undefined = opts.config ? await loadAcquisitionConfig(opts.config) : undefined;
  const dir = resolve(opts.dir ?? resolve('recordings', rigName));
  await mkdir(dir, { recursive: true });
  const nc = await connectBroker(broker);
  const log = (line: string): void => { io.stderr.write(`fiberrig agent ${rigName}: ${line}\n`); };
  let agent: LabAgent;
  try {
    agent = await LabAgent.start({
      nc, rig: rigName, device: opts.device, dir, ttlMs, replicas, derivedOutputs: analysisInputOutputs,
      ...(file ? { defaultFile: file } : {}),
      onEvent: (e) => {
        const line = describe(e);
        if (line) log(line);
        if (opts.json && e.type === 'recording-finished') io.stdout.write(`${JSON.stringify({ session: e.session, summary: e.result.summary })}\n`);
      },
    });
  } catch (error) {
    await nc.close();
    throw error;
  }
  log(`ready on ${opts.nats} (device ${opts.device}, recordings in ${dir})`);
  const signal = await processSignal();
  log(`${signal}: stopping`);
  await agent.stop();
  await nc.drain().catch(() => undefined);
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  addBrokerOptions(command)
    .requiredOption('--rig <name>', 'this rig\'s name in the lab (letters, digits, - and _)')
    .requiredOption('--device <url>', 'serial path, sim://SCENARIO?seed=…&speed=…, or tcp://HOST:PORT')
    .option('--dir <dir>', 'local recordings (default recordings/<rig>)')
    .option('--config <file>', 'acquisition config of start commands that send none (default: 3-wavelength lock-in)')
    .option('--ttl <time>', 'fleet entry lifetime without refresh (a dead agent leaves the fleet after it)', '15s')
    .option('--json', 'print each finished recording\'s summary as a JSON line on stdout')
    .action((opts: AgentOptions) => run(() => agentCommand(io, opts))());
}
