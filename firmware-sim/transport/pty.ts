// The simulator on a pseudo-terminal: anything that opens serial ports (the
// host, a Python script, a terminal) opens PATH and finds a fiberrig device.
// socat makes a pty linked at PATH and relays it to its own stdin/stdout,
// which the simulator holds as ordinary pipes. (An earlier design opened the
// second pty of a socat pair with serialport's binding; under CPU load a
// write that hit a full pty buffer could stall forever. Pipes have Node's own,
// reliable backpressure.) Modem lines do not exist on a pty:
// set({dtr}) and get() fail there, and nothing here depends on them. Host
// opens and closes are invisible on a pty, so the device is always attached;
// when nobody reads PATH the pty buffer fills and the device's link stalls.
import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { SimError } from '../device/errors.ts';
import { DeviceStreamBridge } from './bridge.ts';
import { servedDevice, type SimServeOptions, type SimServer } from './serve.ts';

export interface SimPtyOptions extends SimServeOptions {
  /** socat executable. Default "socat". */
  socatPath?: string;
  /** How long to wait for socat to make the pair, ms. Default 5000. */
  startTimeoutMs?: number;
}

export interface SimPtyServer extends SimServer {
  /** The path clients open (a symlink to the pty, removed on close). */
  readonly path: string;
  /** The pty that PATH links to (socat relays it to the simulator over pipes). */
  readonly devicePath: string;
  /** Resolves when the current socat exits (after close() or unplug(), or if it dies). */
  readonly exited: Promise<void>;
  /**
   * A cable pull: socat exits, so PATH disappears and an open port fails; the
   * device keeps running with its link stalled (like a self-powered board).
   */
  unplug(): Promise<void>;
  /** The device comes back at the same PATH (a new pty); resolves when PATH exists. */
  plug(): Promise<void>;
}

function startSocat(socat: string, path: string, timeoutMs: number): Promise<{ child: ChildProcess; devicePath: string; exited: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${path}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const ptys: string[] = [];
    let log = '';
    let settled = false;
    const fail = (error: SimError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(error);
    };
    const timer = setTimeout(() => fail(new SimError('E_SIM_PTY', `socat did not create ${path} within ${timeoutMs} ms`, `socat said: ${log.trim().slice(-200) || 'nothing'}`)), timeoutMs);
    child.once('error', (error) => fail(new SimError('E_SIM_PTY', `cannot run ${socat}: ${error.message}`, 'install socat (apt-get install socat) or pass socatPath', { cause: error })));
    child.once('exit', (code) => fail(new SimError('E_SIM_PTY', `socat exited (code ${code}) before the pty pair was ready`, `socat said: ${log.trim().slice(-200) || 'nothing'}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (settled) return; // keep draining so socat never blocks on a full pipe
      log += text;
      for (const m of text.matchAll(/PTY is (\S+)/g)) ptys.push(m[1]!);
      if (ptys.length >= 1 && /starting data transfer loop/.test(log)) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, devicePath: ptys[0]!, exited });
      }
    });
  });
}

/** Serves a simulated device on a pty linked at `path` (e.g. /tmp/fiberrig-sim). */
export async function serveSimOnPty(path: string, options: SimPtyOptions = {}): Promise<SimPtyServer> {
  const { socatPath, startTimeoutMs, ...serveOptions } = options;
  const { device, pacer } = servedDevice(serveOptions);
  const bridge = new DeviceStreamBridge(device, pacer);
  let current: { child: ChildProcess; devicePath: string; exited: Promise<void>; port: Duplex } | null = null;
  const killOnExit = (): void => {
    current?.child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);
  const plug = async (): Promise<void> => {
    if (current) return;
    const { child, devicePath, exited } = await startSocat(socatPath ?? 'socat', path, startTimeoutMs ?? 5000);
    const port = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
    port.on('error', () => undefined);
    child.stdin!.on('error', () => undefined); // EPIPE after socat exits
    const mine = { child, devicePath, exited, port };
    current = mine;
    bridge.attach(port);
    exited.then(() => {
      if (current === mine) bridge.detach();
    });
  };
  const unplug = async (): Promise<void> => {
    const c = current;
    if (!c) return;
    current = null;
    bridge.detach();
    c.port.destroy();
    c.child.kill('SIGTERM');
    await c.exited;
  };
  await plug();
  pacer.start();
  const first = current!;

  let closed: Promise<void> | null = null;
  return {
    device,
    pacer,
    path,
    get devicePath(): string {
      return current?.devicePath ?? first.devicePath;
    },
    get exited(): Promise<void> {
      return current?.exited ?? first.exited;
    },
    unplug,
    plug,
    close(): Promise<void> {
      closed ??= (async () => {
        pacer.stop();
        device.leaveSyncBus();
        await unplug();
        process.off('exit', killOnExit);
      })();
      return closed;
    },
  };
}
