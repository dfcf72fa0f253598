// The device under test, named by FIBERRIG_TARGET:
//   sim          the simulator in-process (sim:// through the serialport binding)     [default]
//   sim-pty      the simulator on a pseudo-terminal (socat), opened as a serial port
//   native       the C firmware built for the host (hardware/firmware: make host), over TCP
//   native-pyboard  the same with the pyboard's board definition and its hardware-timing
//                rules (make host-pyboard): what a real pyboard accepts, without the board
//   qemu         the C firmware image under QEMU's netduinoplus2 machine, USART1 over TCP
//   serial:PATH  a real board on a serial port, e.g. serial:/dev/ttyACM0
// The simulated targets measure the simulator's noise-free "linear" world and
// the C firmware's host and qemu builds measure the same function (its
// synthetic front end), so analog-content checks run on those; a real board
// measures real light, so they are pending there.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeEnvelope, FrameDecoder } from '../../protocol/index.ts';
import { registerBinding } from '../../host/transport/open.ts';
// not firmware-sim/simulator.ts: it registers the full world factory process-wide, and the
// suite needs only the built-in "linear" scenario
import { SimBinding } from '../../firmware-sim/transport/binding.ts';
import { serveSimOnPty, type SimPtyServer } from '../../firmware-sim/transport/pty.ts';

registerBinding('sim', SimBinding);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIRMWARE_DIR = join(ROOT, 'hardware', 'firmware');
export const NATIVE_BINARY = join(FIRMWARE_DIR, 'build', 'host', 'fiberrig-fw-host');
export const NATIVE_PYBOARD_BINARY = join(FIRMWARE_DIR, 'build', 'host', 'fiberrig-fw-host-pyboard');
export const QEMU_IMAGE = join(FIRMWARE_DIR, 'build', 'qemu', 'fiberrig-fw-qemu.elf');

export interface Target {
  readonly name: string;
  /** What openTransport() and Rig.connect() take. */
  readonly url: string;
  /** Null when the target measures the linear model (analog checks run), else why they cannot. */
  readonly analogUnmodelledReason: string | null;
  /** Whether every connection finds a new device (in-process sim) rather than the same one. */
  readonly freshDevicePerConnection: boolean;
  close(): Promise<void>;
}

/** A tool or build output the target needs is missing: pending locally, a failure in CI. */
export class MissingTool extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingTool';
  }
}

export const IN_CI = process.env['CI'] === 'true';

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Ends a child process we started (by its pid) and waits for it. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolveMatch, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${text.trim().slice(-300)}`)), timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      text += chunk;
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        resolveMatch(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}) before it was ready: ${text.trim().slice(-300)}`));
    });
  });
}

async function startNative(name: string, binary: string): Promise<Target> {
  if (!existsSync(binary)) throw new MissingTool(`${binary} is not built: run \`npm run firmware:build\``);
  const nvDir = mkdtempSync(join(tmpdir(), 'fiberrig-native-'));
  const child = spawn(binary, ['--tcp', '0', '--nv', join(nvDir, 'nv.bin')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const m = await waitForLine(child, /link (tcp:\/\/[\d.]+:\d+)/, 10_000, 'the native firmware');
  child.stderr!.resume();
  return {
    name, url: m[1]!, analogUnmodelledReason: null, freshDevicePerConnection: false,
    async close() {
      await stopChild(child);
      rmSync(nvDir, { recursive: true, force: true });
    },
  };
}

/** Connects to QEMU's serial port as soon as it listens and reads up to the firmware's boot Log. */
async function takeBootAnnouncement(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let socket: Socket | null = null;
  while (!socket) {
    if (child.exitCode !== null) throw new Error(`qemu-system-arm exited (code ${child.exitCode}): ${log().trim().slice(-300)}`);
    if (Date.now() > deadline) throw new Error(`qemu-system-arm did not listen on ${port}: ${log().trim().slice(-300)}`);
    socket = await new Promise<Socket | null>((done) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => done(s));
      s.once('error', () => done(null));
    });
    if (!socket) await new Promise((r) => setTimeout(r, 50));
  }
  const s = socket;
  try {
    await new Promise<void>((done, reject) => {
      const timer = setTimeout(() => reject(new Error(`the firmware under QEMU did not announce itself within 15 s: ${log().trim().slice(-300)}`)), 15_000);
      const decoder = new FrameDecoder((payload) => {
        try {
          if (decodeEnvelope(payload).body === 'log') {
            clearTimeout(timer);
            done();
          }
        } catch {
          // not an Envelope: keep waiting
        }
      });
      s.on('data', (chunk: Buffer) => decoder.push(chunk));
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    s.destroy();
  }
}

async function startQemu(): Promise<Target> {
  if (!onPath('qemu-system-arm')) throw new MissingTool('qemu-system-arm is not installed (apt-get install qemu-system-arm)');
  if (!existsSync(QEMU_IMAGE)) throw new MissingTool(`${QEMU_IMAGE} is not built: run \`npm run firmware:build\``);
  const port = await freePort();
  // setpriv (util-linux) makes QEMU die with this process, so a killed test run leaves no emulator behind
  const [cmd, ...pre] = onPath('setpriv') ? ['setpriv', '--pdeathsig', 'TERM', 'qemu-system-arm'] : ['qemu-system-arm'];
  const child = spawn(cmd!, [
    ...pre, '-M', 'netduinoplus2', '-display', 'none', '-monitor', 'none', '-nodefaults',
    '-serial', `tcp:127.0.0.1:${port},server=on,wait=on,nodelay=on`, '-kernel', QEMU_IMAGE,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => {
    log += t;
  });
  // wait=on: QEMU holds the guest until a first client connects, so that client sees the whole
  // boot (a 0x00, then the boot Log). Take it here, then leave: later clients find an idle
  // device and never start inside a frame.
  try {
    await takeBootAnnouncement(port, child, () => log);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    name: 'qemu', url: `tcp://127.0.0.1:${port}`, analogUnmodelledReason: null, freshDevicePerConnection: false,
    close: () => stopChild(child),
  };
}

async function startSimPty(): Promise<Target> {
  if (!onPath('socat')) throw new MissingTool('socat is not installed (apt-get install socat)');
  const dir = mkdtempSync(join(tmpdir(), 'fiberrig-pty-'));
  const path = join(dir, 'ttyFIBERRIG');
  let server: SimPtyServer;
  try {
    server = await serveSimOnPty(path, { scenario: 'linear', seed: 1 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: 'sim-pty', url: path, analogUnmodelledReason: null, freshDevicePerConnection: false,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the target FIBERRIG_TARGET names (default sim). */
export async function startTarget(spec = process.env['FIBERRIG_TARGET'] || 'sim'): Promise<Target> {
  if (spec === 'sim') {
    return {
      name: 'sim', url: 'sim://linear?seed=1', analogUnmodelledReason: null, freshDevicePerConnection: true,
      close: async () => undefined,
    };
  }
  if (spec === 'sim-pty') return startSimPty();
  if (spec === 'native') return startNative('native', NATIVE_BINARY);
  if (spec === 'native-pyboard') return startNative('native-pyboard', NATIVE_PYBOARD_BINARY);
  if (spec === 'qemu') return startQemu();
  if (spec.startsWith('serial:')) {
    const path = spec.slice('serial:'.length);
    if (!path) throw new Error('FIBERRIG_TARGET=serial:PATH needs a path, e.g. serial:/dev/ttyACM0');
    if (!existsSync(path.split('?')[0]!)) throw new MissingTool(`no serial port at ${path}`);
    return {
      name: spec, url: path, freshDevicePerConnection: false,
      analogUnmodelledReason: 'a real board measures real light: codes depend on the optics, not on the linear model',
      close: async () => undefined,
    };
  }
  throw new Error(`unknown FIBERRIG_TARGET "${spec}": use sim, sim-pty, native, native-pyboard, qemu or serial:/dev/ttyACM0`);
}
