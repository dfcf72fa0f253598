// Connecting to the lab's NATS server and making sure its stream, consumer and bucket exist.
// Client: @nats-io/transport-node + @nats-io/jetstream + @nats-io/kv 3.x, checked against
// nats-server 2.9.10 (Debian): only options 2.9 knows are used (stream duplicate window,
// KV bucket TTL as the stream's max age; no per-message TTL, no subject transforms).
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, type NatsConnection, nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { LabError } from './errors.ts';
import { ARCHIVE_BUCKET, ARCHIVE_BUCKET_TTL_MS, ARCHIVE_CONSUMER, DUPLICATE_WINDOW_MS, RAW_STREAM, RAW_SUBJECTS, RIGS_BUCKET } from './layout.ts';

export interface BrokerOptions {
  /** nats://HOST:PORT (comma-separated for a cluster). */
  url: string;
  user?: string;
  password?: string;
  /** A .creds file (JWT + nkey seed), for an operator-mode server. */
  credsFile?: string;
  /** Client name shown by the server. */
  name?: string;
}

/** The servers of a --nats URL (comma-separated for a cluster), checked. */
export function brokerServers(url: string): string[] {
  const servers = url.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servers.length === 0) throw new LabError('E_USAGE', '--nats names no server', 'give nats://HOST:PORT (comma-separated for a cluster)');
  for (const s of servers) {
    if (!/^(nats|tls):\/\/[^\s/@]+$/.test(s)) throw new LabError('E_USAGE', `--nats ${s} is not a NATS server URL`, 'give nats://HOST:PORT (comma-separated for a cluster); credentials go in --user/--password or --creds');
  }
  return servers;
}

/** Connects, reconnecting forever (a broker restart is expected, not fatal). */
export async function connectBroker(options: BrokerOptions): Promise<NatsConnection> {
  const servers = brokerServers(options.url);
  const authenticator = options.credsFile ? credsAuthenticator(await readFile(options.credsFile)) : undefined;
  try {
    return await connect({
      servers, name: options.name,
      ...(options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : {}),
      ...(authenticator ? { authenticator } : {}),
      maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: false,
    });
  } catch (cause) {
    const message = (cause as Error).message;
    if (/authorization|authentication/i.test(message)) {
      throw new LabError('E_LAB_AUTH', `the NATS server at ${options.url} refused these credentials (${message})`, 'give --user/--password or --creds of a user the server\'s config allows (host/lab/README.md)', { cause });
    }
    throw new LabError('E_LAB_CONNECT', `cannot reach the NATS server at ${options.url}: ${message}`, 'start nats-server with JetStream (-js), or fix --nats', { cause });
  }
}

/** Stream replicas: 1 on a single server; 3 on a 3-node JetStream cluster (survives the loss of one node). */
export function checkReplicas(replicas: number, given = String(replicas)): number {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new LabError('E_USAGE', `--replicas ${given} is not 1 to 5`, 'give 1 for a single server, 3 for a 3-node JetStream cluster (at most the number of nodes)');
  }
  return replicas;
}

/**
 * The raw stream (created when missing): file storage, duplicate window for idempotent retries,
 * `replicas` copies (a stream that exists keeps the replicas it was made with).
 */
export async function ensureRawStream(nc: NatsConnection, replicas = 1): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(RAW_STREAM);
  } catch {
    await jsm.streams.add({ name: RAW_STREAM, subjects: [RAW_SUBJECTS], duplicate_window: nanos(DUPLICATE_WINDOW_MS), num_replicas: replicas });
  }
}

/** The archive's durable pull consumer (created when missing); explicit acks, one ack per fsynced record. */
export async function ensureArchiveConsumer(nc: NatsConnection, ackWaitMs = 30_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.info(RAW_STREAM, ARCHIVE_CONSUMER);
  } catch {
    await jsm.consumers.add(RAW_STREAM, {
      durable_name: ARCHIVE_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs), max_ack_pending: 20_000,
    });
  }
}

/** The fleet bucket; entries expire `ttlMs` after their last refresh (`replicas` when this call creates it). */
export async function openRigsBucket(nc: NatsConnection, ttlMs: number, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(RIGS_BUCKET, { ttl: ttlMs, history: 1, replicas });
}

/**
 * The archive's progress bucket (created when missing, with `replicas`): one entry per session,
 * history 1, each kept ARCHIVE_BUCKET_TTL_MS after its last put (layout.ts).
 */
export async function openArchiveBucket(nc: NatsConnection, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(ARCHIVE_BUCKET, { ttl: ARCHIVE_BUCKET_TTL_MS, history: 1, replicas });
}
