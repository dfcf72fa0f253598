// `fiberrig lab --nats URL`: the browser dashboard of the lab's fleet (host/lab/dashboard):
// every rig's state, live traces, alarms, archive backlog; start/stop one rig or a group.
// Binds 127.0.0.1 unless --host says otherwise, and then requires a token (generated and
// printed when not given), as `fiberrig view` does. Runs until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { connectBroker } from '../../lab/broker.ts';
import { NatsFleetSource } from '../../lab/dashboard/nats-source.ts';
import { startLabServer } from '../../lab/dashboard/server.ts';
import { addBrokerOptions, brokerOptions, type LabCliOptions } from '../lab-options.ts';
import type { CliIo, Runner } from '../main.ts';
import { parseDuration } from '../duration.ts';
import { parsePort } from './view.ts';

export interface LabOptions extends LabCliOptions {
  port?: string | number;
  host?: string;
  token?: string;
  /** A rig not heard of for this long is offline (default: the fleet bucket's TTL). */
  ttl?: string;
  /** Print the dashboard's address as a JSON line on stdout (for scripts). */
  json?: boolean;
  /** Stops the command (tests); otherwise SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Called once the page is served (tests). */
  onServing?: (url: string) => void;
}

export async function labCommand(io: CliIo, opts: LabOptions): Promise<number> {
  const port = parsePort(opts.port, 8090);
  const offlineAfterMs = opts.ttl === undefined ? undefined : parseDuration(opts.ttl) * 1000;
  const nc = await connectBroker(brokerOptions(opts, 'fiberrig-lab'));
  const source = new NatsFleetSource({ nc });
  try {
    const server = await startLabServer({
      source, port, ...(offlineAfterMs !== undefined ? { table: { offlineAfterMs } } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}), ...(opts.token !== undefined ? { token: opts.token } : {}),
    });
    if (server.token !== undefined && opts.token === undefined) io.stderr.write(`fiberrig lab: ${server.host} is not a loopback address: generated an access token\n`);
    io.stderr.write(`fiberrig lab: dashboard of ${opts.nats} at ${server.url} (Ctrl-C stops)\n`);
    if (opts.json) io.stdout.write(`${JSON.stringify({ url: server.url, host: server.host, port: server.port })}\n`);
    opts.onServing?.(server.url);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        opts.signal?.removeEventListener('abort', stop);
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      opts.signal?.addEventListener('abort', stop, { once: true });
      if (opts.signal?.aborted) stop();
    });
    await server.close();
  } finally {
    await source.close();
    await nc.drain().catch(() => undefined);
  }
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  addBrokerOptions(command)
    .option('--port <n>', 'HTTP port (0: any free port)', '8090')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'access token (generated when --host is not loopback)')
    .option('--ttl <time>', 'a rig not heard of for this long is shown offline (default: the fleet bucket\'s TTL, the first agent\'s --ttl)')
    .option('--json', 'print the dashboard\'s address as a JSON line on stdout ({"url", "host", "port"})')
    .action((opts: LabOptions) => run(() => labCommand(io, opts))());
}
