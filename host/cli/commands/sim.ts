// `fiberrig sim`: serves a simulated device where outside programs can open
// it: a pty path (a serial port to anything that opens it) or a TCP port.
import type { Command } from 'commander';
import { FiberrigError } from '../../../protocol/index.ts';
import { flagOrPositional } from '../arguments.ts';
import { SIM_SERVERS } from '../devices.ts';
import type { CliIo, Runner } from '../main.ts';

export interface SimOptions {
  pty?: string;
  tcp?: string;
  device: string;
}

export async function simCommand(io: CliIo, opts: SimOptions): Promise<number> {
  if (Boolean(opts.pty) === Boolean(opts.tcp)) {
    throw new FiberrigError('E_USAGE', 'give exactly one of --pty PATH or --tcp HOST:PORT', 'e.g. fiberrig sim --pty /tmp/fiberrig0 --device sim://sleep');
  }
  const tcp = opts.tcp === undefined ? undefined : /^(.*):(\d+)$/.exec(opts.tcp);
  if (tcp === null) throw new FiberrigError('E_USAGE', `cannot read --tcp ${opts.tcp}`, 'write HOST:PORT, e.g. 127.0.0.1:7000');
  if (tcp && Number(tcp[2]) > 65535) throw new FiberrigError('E_USAGE', `--tcp ${opts.tcp}: ${tcp[2]} is not a port number`, 'give 1..65535, or 0 for any free port');
  SIM_SERVERS.checkUrl(opts.device);
  const server = opts.pty ? await SIM_SERVERS.onPty(opts.pty, opts.device) : await SIM_SERVERS.onTcp(tcp![1]!, Number(tcp![2]), opts.device);
  io.stderr.write(`fiberrig sim: ${opts.device} on ${server.url} (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .option('--device <url>', 'sim://SCENARIO?seed=…&speed=…&faults=… (default sim://sleep)')
    .argument('[device]', 'deprecated: the device as a positional argument (write --device URL)')
    .option('--pty <path>', 'create a pty at PATH (needs socat)')
    .option('--tcp <host:port>', 'listen on HOST:PORT')
    .action((positional: string | undefined, opts: { device?: string; pty?: string; tcp?: string }) => run(() => {
      const device = flagOrPositional(io, { flag: '--device', value: opts.device, positional, command: 'sim', example: 'fiberrig sim --tcp 127.0.0.1:7000 --device sim://sleep', fallback: 'sim://sleep' });
      return simCommand(io, { ...(opts.pty !== undefined ? { pty: opts.pty } : {}), ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}), device });
    })());
}
