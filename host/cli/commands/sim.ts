// `fiberrig sim`: serves a simulated device where outside programs can open
// it: a pty path (a serial port to anything that opens it) or a TCP port.
import { serveSimOnPty, serveSimOnTcp, simServeOptionsFromUrl } from '../../../firmware-sim/simulator.ts';
import { FiberrigError } from '../../../protocol/index.ts';
import type { CliIo } from '../main.ts';

export interface SimOptions {
  pty?: string;
  tcp?: string;
  device: string;
}

export async function simCommand(io: CliIo, opts: SimOptions): Promise<number> {
  if (Boolean(opts.pty) === Boolean(opts.tcp)) {
    throw new FiberrigError('E_USAGE', 'give exactly one of --pty PATH or --tcp HOST:PORT', 'e.g. fiberrig sim --pty /tmp/fiberrig0 sim://sleep');
  }
  const options = simServeOptionsFromUrl(opts.device);
  let close: () => Promise<void>;
  if (opts.pty) {
    const server = await serveSimOnPty(opts.pty, options);
    io.stderr.write(`fiberrig sim: ${opts.device} on ${opts.pty} (Ctrl-C stops)\n`);
    close = () => server.close();
  } else {
    const m = /^(.*):(\d+)$/.exec(opts.tcp!);
    if (!m) throw new FiberrigError('E_USAGE', `cannot read --tcp ${opts.tcp}`, 'write HOST:PORT, e.g. 127.0.0.1:7000');
    const server = await serveSimOnTcp(m[1]!, Number(m[2]), options);
    io.stderr.write(`fiberrig sim: ${opts.device} on ${server.url} (Ctrl-C stops)\n`);
    close = () => server.close();
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await close();
  return 0;
}
