// Open a fiberrig device under test by name, with its setup and teardown:
//   sim             the simulator in-process (a sim:// URL through the serialport binding)
//   sim-pty         the simulator on a pseudo-terminal (needs socat), opened as a serial port
//   native          the C firmware built for the host (hardware/firmware: make host), over TCP
//   native-pyboard  the same with the pyboard's board definition and hardware-timing rules
//   qemu            the C firmware image under QEMU's netduinoplus2 machine, USART1 over TCP
//   serial:PATH     a real board on a serial port, e.g. serial:/dev/ttyACM0
// Whatever the target, `url` is what Rig.connect() and openTransport() take. A missing tool or
// build output is a MissingTool (useTarget: pending locally, a failure under CI=true).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenarioSpec, SIM_SERVERS, SimBinding, type ScenarioSpecInput, type Speed } from '../cli/devices.ts';
import { MissingTool, TestingError } from './errors.ts';
import { freePort, onPath, stopChild, takeBootAnnouncement, waitForLine } from './processes.ts';
import { type SimControl, simControl } from './world.ts';

export const TARGET_NAMES = ['sim', 'sim-pty', 'native', 'native-pyboard', 'qemu', 'serial:PATH'] as const;

export interface TargetOptions {
  /**
   * Simulated targets: a sim:// scenario name (default `linear`, the noise-free model the C
   * firmware's synthetic front end also implements), or a scenario document (an object, checked
   * and written to a temporary file: its timeline schedules events; see firmware-sim/world/scenario-file/).
   */
  scenario?: string | ScenarioSpecInput;
  /** Simulated targets: world and fault seed (default 1). */
  seed?: number;
  /** Simulated targets: simulated seconds per wall-clock second, or 'max' (default 1). */
  speed?: Speed;
  /** Simulated targets: faults from power-up, in the sim:// `faults=` syntax. */
  faults?: string;
  /**
   * native, native-pyboard, qemu: the firmware build directory (holding host/ and qemu/).
   * Default: $FIBERRIG_FIRMWARE_BUILD, else hardware/firmware/build of the fiberrig checkout.
   */
  firmwareBuildDir?: string;
}

export interface Target {
  /** The name it was opened by, e.g. 'native' or 'serial:/dev/ttyACM0'. */
  readonly name: string;
  /** What Rig.connect() and openTransport() take. */
  readonly url: string;
  /** Null when the target measures the linear model (analog content is predictable), else why it cannot. */
  readonly analogUnmodelledReason: string | null;
  /** Whether every connection finds a new device (in-process sim) rather than the same one. */
  readonly freshDevicePerConnection: boolean;
  /** Simulated targets: the world under control; null for firmware and hardware. */
  readonly sim: SimControl | null;
  /** Ends the target: stops its processes and servers, removes its temporary files. Idempotent. */
  close(): Promise<void>;
}

/** The firmware build directory in a fiberrig checkout (data read by path, not an import). */
function defaultBuildDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'hardware', 'firmware', 'build');
}

const BUILD_HINT = 'build it in a fiberrig checkout (`npm run firmware:build`), then set FIBERRIG_FIRMWARE_BUILD (or the firmwareBuildDir option) to its hardware/firmware/build';

function buildDir(options: TargetOptions): string {
  return options.firmwareBuildDir ?? process.env['FIBERRIG_FIRMWARE_BUILD'] ?? defaultBuildDir();
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

/** The sim:// URL of the options, and a cleanup for a scenario document written to a temporary file. */
function simUrl(options: TargetOptions): { url: string; cleanup: () => void } {
  const query: string[] = [`seed=${options.seed ?? 1}`];
  if (options.speed !== undefined) query.push(`speed=${options.speed}`);
  if (options.faults) query.push(`faults=${encodeURIComponent(options.faults)}`);
  const scenario = options.scenario ?? 'linear';
  if (typeof scenario === 'string' && !/^[A-Za-z][\w.-]*$/.test(scenario)) {
    throw new TestingError('E_TARGET_UNKNOWN', `scenario "${scenario}" is not a scenario name`, 'give a name (linear, sleep, zolpidem, steps, dark) and the options as seed/speed/faults, or a scenario document as an object');
  }
  if (typeof scenario === 'string') return { url: `sim://${scenario}?${query.join('&')}`, cleanup: () => undefined };
  parseScenarioSpec(scenario, 'the scenario option');
  const dir = mkdtempSync(join(tmpdir(), 'fiberrig-scenario-'));
  const path = join(dir, 'scenario.json');
  writeFileSync(path, JSON.stringify(scenario));
  return { url: `sim://file?path=${encodeURIComponent(path)}&${query.join('&')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function openSim(options: TargetOptions): Target {
  const { url, cleanup } = simUrl(options);
  try {
    SimBinding.ports.createPort(url); // powered up now, so the world is under control before the first open
  } catch (error) {
    cleanup();
    throw error;
  }
  const current = () => {
    const handle = SimBinding.ports.lookup(url);
    if (!handle) throw new TestingError('E_TARGET_NOT_SIM', `no simulated device behind ${url} any more`, 'something reset SimBinding.ports; open the target again');
    return handle.device;
  };
  return {
    name: 'sim', url, analogUnmodelledReason: null, freshDevicePerConnection: true, sim: simControl(current),
    close: once(async () => {
      SimBinding.ports.release(url); // its device stops (at once, or when a connection left open closes)
      cleanup();
    }),
  };
}

async function openSimPty(options: TargetOptions): Promise<Target> {
  if (!onPath('socat')) throw new MissingTool('socat is not installed', 'apt-get install socat');
  const { url: deviceUrl, cleanup } = simUrl(options);
  const dir = mkdtempSync(join(tmpdir(), 'fiberrig-pty-'));
  const path = join(dir, 'ttyFIBERRIG');
  try {
    const server = await SIM_SERVERS.onPty(path, deviceUrl);
    return {
      name: 'sim-pty', url: path, analogUnmodelledReason: null, freshDevicePerConnection: false, sim: simControl(() => server.device),
      close: once(async () => {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
        cleanup();
      }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    cleanup();
    throw error;
  }
}

async function openNative(name: string, binary: string): Promise<Target> {
  if (!existsSync(binary)) throw new MissingTool(`${binary} is not built`, BUILD_HINT);
  const nvDir = mkdtempSync(join(tmpdir(), 'fiberrig-native-'));
  let child: ChildProcess | null = null;
  try {
    child = spawn(binary, ['--tcp', '0', '--nv', join(nvDir, 'nv.bin')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const m = await waitForLine(child, /link (tcp:\/\/[\d.]+:\d+)/, 10_000, 'the native firmware');
    child.stderr!.resume();
    const started = child;
    return {
      name, url: m[1]!, analogUnmodelledReason: null, freshDevicePerConnection: false, sim: null,
      close: once(async () => {
        await stopChild(started);
        rmSync(nvDir, { recursive: true, force: true });
      }),
    };
  } catch (error) {
    if (child) await stopChild(child);
    rmSync(nvDir, { recursive: true, force: true });
    throw error;
  }
}

async function openQemu(image: string): Promise<Target> {
  if (!onPath('qemu-system-arm')) throw new MissingTool('qemu-system-arm is not installed', 'apt-get install qemu-system-arm');
  if (!existsSync(image)) throw new MissingTool(`${image} is not built`, BUILD_HINT);
  const port = await freePort();
  // setpriv (util-linux) makes QEMU die with this process, so a killed test run leaves no emulator behind
  const [cmd, ...pre] = onPath('setpriv') ? ['setpriv', '--pdeathsig', 'TERM', 'qemu-system-arm'] : ['qemu-system-arm'];
  const child = spawn(cmd!, [
    ...pre, '-M', 'netduinoplus2', '-display', 'none', '-monitor', 'none', '-nodefaults',
    '-serial', `tcp:127.0.0.1:${port},server=on,wait=on,nodelay=on`, '-kernel', image,
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
    name: 'qemu', url: `tcp://127.0.0.1:${port}`, analogUnmodelledReason: null, freshDevicePerConnection: false, sim: null,
    close: once(() => stopChild(child)),
  };
}

/** Opens the target `name` names (see TARGET_NAMES); close() it when done (useTarget does both). */
export async function openTarget(name: string, options: TargetOptions = {}): Promise<Target> {
  if (name === 'sim') return openSim(options);
  if (name === 'sim-pty') return openSimPty(options);
  if (name === 'native') return openNative(name, join(buildDir(options), 'host', 'fiberrig-fw-host'));
  if (name === 'native-pyboard') return openNative(name, join(buildDir(options), 'host', 'fiberrig-fw-host-pyboard'));
  if (name === 'qemu') return openQemu(join(buildDir(options), 'qemu', 'fiberrig-fw-qemu.elf'));
  if (name.startsWith('serial:')) {
    const path = name.slice('serial:'.length);
    if (!path) throw new TestingError('E_TARGET_UNKNOWN', 'the serial target needs a path', 'write serial:PATH, e.g. serial:/dev/ttyACM0');
    if (!existsSync(path.split('?')[0]!)) throw new MissingTool(`no serial port at ${path}`, 'plug the board in, or check the path with `fiberrig ports`');
    return {
      name, url: path, freshDevicePerConnection: false, sim: null,
      analogUnmodelledReason: 'a real board measures real light: codes depend on the optics, not on the linear model',
      close: async () => undefined,
    };
  }
  throw new TestingError('E_TARGET_UNKNOWN', `unknown target "${name}"`, `use one of ${TARGET_NAMES.join(', ')} (e.g. serial:/dev/ttyACM0)`);
}

/**
 * Opens `count` simulated devices at once, each its own world with its own seed (seed, seed+1, …):
 * several rigs, or several animals, in one test.
 */
export async function openSimTargets(count: number, options: TargetOptions & { name?: 'sim' | 'sim-pty' } = {}): Promise<Target[]> {
  if (!Number.isInteger(count) || count < 1) throw new TestingError('E_TARGET_UNKNOWN', `cannot open ${count} simulated devices`, 'give a whole number ≥ 1');
  const first = options.seed ?? 1;
  const out: Target[] = [];
  try {
    for (let i = 0; i < count; i++) out.push(await openTarget(options.name ?? 'sim', { ...options, seed: first + i }));
  } catch (error) {
    await Promise.all(out.map((t) => t.close()));
    throw error;
  }
  return out;
}
