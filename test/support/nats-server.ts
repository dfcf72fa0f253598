// Real nats-server processes for the lab tests: JetStream on 127.0.0.1, a free port, a
// temporary store; stop (SIGTERM), kill (SIGKILL) and restart on the same port and store;
// a JetStream cluster of N such servers (server_name per node, cluster routes between them).
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The nats-server binary: $FIBERRIG_NATS_SERVER when set, else the one installed (Debian puts it in /usr/sbin). */
export function natsServerPath(): string | undefined {
  const given = process.env['FIBERRIG_NATS_SERVER'];
  if (given !== undefined) {
    try {
      accessSync(given, constants.X_OK);
      return given;
    } catch {
      return undefined;
    }
  }
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const p = join(d, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** Why the lab tests cannot run, or undefined. */
export function natsServerMissing(): string | undefined {
  if (natsServerPath()) return undefined;
  return process.env['FIBERRIG_NATS_SERVER'] !== undefined ? `FIBERRIG_NATS_SERVER=${process.env['FIBERRIG_NATS_SERVER']} is not an executable` : 'nats-server is not installed';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsServerOptions {
  /** Extra config (nats-server config syntax), e.g. an authorization block. */
  config?: string;
  /** Client port (default: a free one). */
  port?: number;
}

export class NatsServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(readonly port: number, readonly storeDir: string, private readonly configPath: string) {}

  /** This node's name in a cluster (undefined for a lone server). */
  serverName: string | undefined;

  /** The running server's process id (for its CPU time in benchmarks). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const storeDir = await mkdtemp(join(tmpdir(), 'fiberrig-nats-'));
    const port = options.port ?? await freePort();
    const configPath = join(storeDir, 'server.conf');
    await writeFile(configPath, `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${join(storeDir, 'js')}" }\n${options.config ?? ''}\n`);
    const server = new NatsServer(port, storeDir, configPath);
    await server.launch();
    return server;
  }

  /** Starts the process and waits until it accepts clients. */
  private async launch(): Promise<void> {
    const child = spawn(natsServerPath()!, ['-c', this.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start in 10 s:\n${this.log}`)), 10_000);
      child.stderr!.on('data', (d: Buffer) => {
        this.log += d.toString();
        if (this.log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`nats-server exited (${code}):\n${this.log}`)); });
    });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void> {
    return this.end('SIGTERM');
  }

  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void> {
    return this.end('SIGKILL');
  }

  /** Starts again on the same port and store. */
  async restart(): Promise<void> {
    await this.end('SIGKILL');
    this.log = '';
    await this.launch();
  }

  /** Stops and removes the store. */
  async dispose(): Promise<void> {
    await this.end('SIGKILL');
    await rm(this.storeDir, { recursive: true, force: true });
  }
}

/**
 * A JetStream cluster of `nodes` servers on 127.0.0.1 (server_name n1…nN, one cluster "fiberrig"
 * with routes to every node), started at once; resolves when every node accepts clients (the
 * JetStream meta leader may still be being elected: see `url` and wait for JetStream with a client).
 */
export class NatsCluster {
  private constructor(readonly servers: NatsServer[]) {}

  /** Every node's URL, comma-separated (the `--nats` form of a cluster). */
  get url(): string {
    return this.servers.map((s) => s.url).join(',');
  }

  static async start(nodes = 3): Promise<NatsCluster> {
    const ports: number[] = [];
    const routePorts: number[] = [];
    // distinct free ports (a port freed by one probe can be handed out again by the next)
    while (ports.length < nodes || routePorts.length < nodes) {
      const p = await freePort();
      if (ports.includes(p) || routePorts.includes(p)) continue;
      (ports.length < nodes ? ports : routePorts).push(p);
    }
    const routes = routePorts.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
    const servers = await Promise.all(ports.map(async (port, i) => {
      const name = `n${i + 1}`;
      const server = await NatsServer.start({
        port,
        config: `server_name: ${name}\ncluster { name: fiberrig, listen: "127.0.0.1:${routePorts[i]}", routes: [${routes}] }`,
      });
      server.serverName = name;
      return server;
    }));
    return new NatsCluster(servers);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.dispose()));
  }
}
