// What `fiberrig agent` and `fiberrig archive` share: the broker options and their checks,
// the log lines of lab events on stderr, and the wait for SIGINT/SIGTERM.
import type { Command } from 'commander';
import { FiberrigError } from '../../protocol/index.ts';
import { type BrokerOptions, brokerServers, checkReplicas } from '../lab/broker.ts';

export interface LabCliOptions {
  nats: string;
  user?: string;
  password?: string;
  creds?: string;
  /** --replicas (commander's default '1'; absent when called as a function) */
  replicas?: string;
}

export function addBrokerOptions(command: Command): Command {
  return command
    .requiredOption('--nats <url>', 'NATS server with JetStream: nats://HOST:PORT (comma-separated for a cluster)')
    .option('--user <name>', 'NATS user (the server\'s authorization; see host/lab/README.md)')
    .option('--password <password>', 'NATS password (default: $FIBERRIG_NATS_PASSWORD; the command line is visible to other users)')
    .option('--creds <file>', 'NATS credentials file (JWT + nkey seed) for an operator-mode server')
    .option('--replicas <n>', 'replicas of the stream (and fleet bucket) when this process creates them: 1, or 3 on a 3-node JetStream cluster', '1');
}

export function brokerOptions(opts: LabCliOptions, name: string): BrokerOptions {
  brokerServers(opts.nats);
  const password = opts.password ?? process.env['FIBERRIG_NATS_PASSWORD'];
  if (opts.creds !== undefined && opts.user !== undefined) throw new FiberrigError('E_USAGE', '--creds and --user both given', 'give one way to log in: --creds FILE, or --user NAME with --password');
  if (password !== undefined && opts.user === undefined) throw new FiberrigError('E_USAGE', 'a password is given without --user', 'add --user NAME');
  return {
    url: opts.nats, name,
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(opts.creds !== undefined ? { credsFile: opts.creds } : {}),
  };
}

/** Resolves at the first SIGINT or SIGTERM. */
export function processSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** --replicas, checked (1 to 5). */
export function replicasOption(opts: LabCliOptions): number {
  return checkReplicas(Number(opts.replicas ?? '1'), opts.replicas ?? '1');
}
