// `fiberrig view`: watch a device in the browser without recording. Connects,
// configures, starts, and serves the live view until Ctrl-C (or until the
// device is lost for good). Recording is `fiberrig acquire --live`.
import { type AcquisitionFile, DEFAULT_LOCKIN_CONFIG, loadAcquisitionConfig, toWireConfig } from '../../config/acquisition.ts';
import { startLiveServer } from '../../live/server.ts';
import { type AcquisitionConfigInit, FiberrigError, pb } from '../../../protocol/index.ts';
import { Rig, type RigOptions } from '../../rig/rig.ts';
import type { Command } from 'commander';
import '../devices.ts';
import { checkDeviceUrl } from '../../transport/open.ts';
import type { CliIo, Runner } from '../main.ts';

export interface ViewOptions {
  device: string;
  config?: string;
  port?: string | number;
  host?: string;
  token?: string;
  /** Stops the command (tests); otherwise SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

/** The configuration exactly as the device stores it (float fields as float32), so live demodulation uses the same numbers. */
function asSent(config: AcquisitionConfigInit): AcquisitionConfigInit {
  return pb.AcquisitionConfig.toObject(pb.AcquisitionConfig.decode(pb.AcquisitionConfig.encode(config).finish())) as AcquisitionConfigInit;
}

export function parsePort(value: string | number | undefined, fallback = 8080): number {
  if (value === undefined) return fallback;
  const port = /^\s*\d{1,5}\s*$/.test(String(value)) ? Number(value) : Number.NaN; // no "", "1e3", "0x50" or 400 digits
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FiberrigError('E_USAGE', `--port ${value} is not a port number`, 'give 1..65535, or 0 for any free port');
  return port;
}

export async function viewCommand(io: CliIo, opts: ViewOptions, rigOptions: RigOptions = {}): Promise<number> {
  const file: AcquisitionFile = opts.config ? await loadAcquisitionConfig(opts.config) : DEFAULT_LOCKIN_CONFIG;
  const port = parsePort(opts.port);
  const wire = asSent(toWireConfig(file));
  if (!rigOptions.openTransport) checkDeviceUrl(opts.device);
  const rig = await Rig.connect(opts.device, rigOptions);
  try {
    io.stderr.write(`fiberrig view: ${rig.info.firmwareName} ${rig.info.firmwareVersion} on ${rig.info.boardModel} (${opts.device})\n`);
    // the server first: a --host it cannot listen on, or a port in use, fails with the device untouched
    const server = await startLiveServer({
      rig, config: file, wire, port, ...(opts.host !== undefined ? { host: opts.host } : {}), ...(opts.token !== undefined ? { token: opts.token } : {}),
    });
    await rig.configure(wire);
    if (server.token !== undefined && opts.token === undefined) io.stderr.write(`fiberrig view: ${server.host} is not a loopback address: generated an access token\n`);
    io.stderr.write(`fiberrig view: live view at ${server.url} (not recording; Ctrl-C stops)\n`);
    await rig.start();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      opts.signal?.addEventListener('abort', done, { once: true });
      if (opts.signal?.aborted) done();
      void server.closed.then(done);
    });
    await server.close();
  } finally {
    await rig.close().catch(() => undefined);
  }
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--device <url>', 'serial path, sim://SCENARIO?…, or tcp://HOST:PORT')
    .option('--config <file>', 'acquisition config (JSON); default: 3-wavelength lock-in')
    .option('--port <n>', 'HTTP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'access token (generated when --host is not loopback)')
    .action((opts: ViewOptions) => run(() => viewCommand(io, opts))());
}
