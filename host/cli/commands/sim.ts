// `fiberrig sim`: serves simulated devices where outside programs can open them: a pty path (a
// serial port to anything that opens it) or TCP ports. `--count N` serves N devices at once on
// consecutive ports, each its own world with its own seed (the URL's seed, +1, +2, …);
// `--scenario FILE` serves a scenario document (as --device sim://file?path=FILE).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FiberrigError } from '../../../protocol/index.ts';
import { isReplayUrl } from '../../replay/url.ts';
import { flagOrPositional } from '../arguments.ts';
import { SIM_SERVERS, type SimServer } from '../devices.ts';
import type { CliIo, Runner } from '../main.ts';

export interface SimOptions {
  pty?: string;
  tcp?: string;
  /** The device (default sim://sleep); with `scenario`, only its options count (sim://file?seed=…). */
  device?: string;
  /** Devices to serve (TCP only), on consecutive ports from --tcp's. Default 1. */
  count?: number;
  /** A scenario document: the device is sim://file?path=FILE (with --device's options, if any). */
  scenario?: string;
}

/** Most devices one `fiberrig sim` serves. */
export const MAX_SIM_COUNT = 64;

/** The sim:// URL of a scenario document, keeping the options (seed, speed, faults, …) of `device`. */
export function scenarioDeviceUrl(file: string, device: string | undefined): string {
  const m = device === undefined ? null : /^sim:\/\/([^?]*)(?:\?(.*))?$/i.exec(device);
  if (device !== undefined && (!m || (m[1] !== '' && m[1]!.toLowerCase() !== 'file'))) {
    throw new FiberrigError('E_USAGE', `--scenario ${file} names the device, and --device ${device} names another`, 'give --scenario FILE alone, or with --device sim://file?seed=N&speed=… for its options');
  }
  const params = new URLSearchParams(m?.[2] ?? '');
  if (params.has('path')) throw new FiberrigError('E_USAGE', `--scenario ${file} and a path= in --device ${device}`, 'give the document once');
  params.set('path', resolve(file));
  return `sim://file?${params.toString()}`;
}

/** `url` with its seed moved on by `offset` (the URL's seed, default 1). */
export function withSeedOffset(url: string, offset: number): string {
  if (offset === 0) return url;
  const m = /^(sim:\/\/[^?]*)(?:\?(.*))?$/i.exec(url)!;
  const params = new URLSearchParams(m[2] ?? '');
  const seed = params.has('seed') ? Number(params.get('seed')) : 1;
  params.set('seed', String(seed + offset));
  return `${m[1]}?${params.toString()}`;
}

/** Where `--tcp` listens: HOST:PORT, or PORT alone on 127.0.0.1. */
function parseTcp(text: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d+)$/.exec(text);
  if (!m) throw new FiberrigError('E_USAGE', `cannot read --tcp ${text}`, 'write HOST:PORT or PORT, e.g. 127.0.0.1:7000 or 7000');
  if (Number(m[2]) > 65535) throw new FiberrigError('E_USAGE', `--tcp ${text}: ${m[2]} is not a port number`, 'give 1..65535, or 0 for any free port');
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

/** Starts the servers `opts` asks for (checked first); the caller closes them. */
export async function startSimServers(opts: SimOptions): Promise<Array<{ device: string; server: SimServer }>> {
  if (Boolean(opts.pty) === Boolean(opts.tcp)) {
    throw new FiberrigError('E_USAGE', 'give exactly one of --pty PATH or --tcp HOST:PORT', 'e.g. fiberrig sim --pty /tmp/fiberrig0 --device sim://sleep');
  }
  const count = opts.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_SIM_COUNT) {
    throw new FiberrigError('E_USAGE', `--count ${opts.count}: not a number of devices`, `give 1..${MAX_SIM_COUNT}`);
  }
  if (count > 1 && opts.pty) throw new FiberrigError('E_USAGE', '--count serves several devices on consecutive TCP ports', 'use --tcp HOST:PORT with --count, or one --pty per `fiberrig sim`');
  const tcp = opts.tcp === undefined ? undefined : parseTcp(opts.tcp);
  if (tcp && tcp.port !== 0 && tcp.port + count - 1 > 65535) {
    throw new FiberrigError('E_USAGE', `--tcp ${opts.tcp} --count ${count}: the ports run past 65535`, 'start lower');
  }
  const base = opts.scenario !== undefined ? scenarioDeviceUrl(opts.scenario, opts.device) : (opts.device ?? 'sim://sleep');
  if (isReplayUrl(base)) {
    throw new FiberrigError('E_USAGE', `fiberrig sim serves simulated devices, and ${base} is a recording`, 'open the recording directly where it is read: fiberrig acquire|view --device replay://DIR (or sim://replay?rec=DIR); serve a simulation with --device sim://SCENARIO');
  }
  const devices = Array.from({ length: count }, (_, i) => withSeedOffset(base, i));
  for (const d of devices) SIM_SERVERS.checkUrl(d);
  const started: Array<{ device: string; server: SimServer }> = [];
  try {
    for (const [i, device] of devices.entries()) {
      const server = opts.pty ? await SIM_SERVERS.onPty(opts.pty, device) : await SIM_SERVERS.onTcp(tcp!.host, tcp!.port === 0 ? 0 : tcp!.port + i, device);
      started.push({ device, server });
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.server.close()));
    throw error;
  }
  return started;
}

export async function simCommand(io: CliIo, opts: SimOptions): Promise<number> {
  const servers = await startSimServers(opts);
  // listen for the stop signals before saying where the devices are: whoever reads that may stop us at once
  const stopped = new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  for (const { device, server } of servers) io.stderr.write(`fiberrig sim: ${device} on ${server.url} (Ctrl-C stops)\n`);
  await stopped;
  await Promise.all(servers.map((s) => s.server.close()));
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .option('--device <url>', 'sim://SCENARIO?seed=…&speed=…&faults=… (default sim://sleep)')
    .argument('[device]', 'deprecated: the device as a positional argument (write --device URL)')
    .option('--pty <path>', 'create a pty at PATH (needs socat)')
    .option('--tcp <host:port>', 'listen on HOST:PORT (or PORT, on 127.0.0.1; 0: any free port)')
    .option('--count <n>', `serve N devices on consecutive ports from --tcp's, seeds seed, seed+1, … (1..${MAX_SIM_COUNT})`)
    .option('--scenario <file>', 'serve a scenario document (same as --device sim://file?path=FILE)')
    .action((positional: string | undefined, opts: { device?: string; pty?: string; tcp?: string; count?: string; scenario?: string }) => run(() => {
      const example = 'fiberrig sim --tcp 127.0.0.1:7000 --device sim://sleep';
      const given = opts.device !== undefined || positional !== undefined
        ? flagOrPositional(io, { flag: '--device', value: opts.device, positional, command: 'sim', example })
        : undefined;
      if (opts.count !== undefined && !/^\d+$/.test(opts.count)) throw new FiberrigError('E_USAGE', `--count ${opts.count}: not a number of devices`, `give 1..${MAX_SIM_COUNT}`);
      const count = opts.count === undefined ? undefined : Number(opts.count);
      return simCommand(io, {
        ...(opts.pty !== undefined ? { pty: opts.pty } : {}), ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}),
        ...(count !== undefined ? { count } : {}),
        ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}),
        ...(given !== undefined ? { device: given } : {}),
      });
    })());
}
