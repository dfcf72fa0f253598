// sim:// URLs: one string names a simulated device and how it runs.
//
//   sim://SCENARIO[?seed=N][&speed=X|max][&drift_ppm=P][&faults=LIST]
//                 [&link_bps=B][&loopback=LINE][&persist=1][&led_aging=CH:F,...]
//                 [&sync_bus=NAME[&sync_in=LINE]][&thread=main|worker]
//
//   seed       world and fault seed, integer 0..2^32-1 (default 1; the generators
//              take 32 bits, so a larger seed would alias a smaller one)
//   speed      simulated seconds per wall-clock second, 0.001..1e6 (default 1);
//              "max" runs as fast as the reader consumes while acquiring
//   drift_ppm  device crystal error, ppm, within +/-1e5 (as the drift fault)
//   faults     fault list, see parseFaults (e.g. corrupt:rate=1e-5,disconnect@5:for=2)
//   link_bps   link throughput, bytes/s, 10..1e9 (default 1e6)
//   loopback   wire the sync output to digital input LINE (0..255, as every id)
//   persist    keep the device (running, configured) when the port closes, so
//              a reopen finds it as a host finds real hardware after a reconnect
//   led_aging  aged LEDs: channel:factor pairs, e.g. 1:0.85 (LED 1 emits 15 %
//              less light than its seeded curve); needs a world scenario
//   hw         hardware faults of the front end, e.g. dead_led:1,noisy_det:0
//              (see device/hardware-faults.ts); needs a world scenario
//   sync_bus   a sync line shared by every simulated rig of this process whose URL
//              names the same bus (device/sync-bus.ts): a rig whose configuration
//              enables sync_out drives it; every rig with the bus's input line in
//              digital_input_ids timestamps its edges on its own clock. A rig takes
//              its place on the bus's time base (wall clock × speed) when its clock
//              starts to run, so all rigs on a bus must run at one speed; at
//              speed=max each races at its own pace and their runs need not even
//              overlap: record a group at a fixed speed. NAME: 1-64 letters, digits, _ . -
//   sync_in    the digital input line the bus is wired to on this rig (default 0)
//   thread     where the world and device run: main (this thread, the device reachable
//              through SimPorts) or worker (a worker thread; see transport/README.md);
//              absent: the opener decides (the CLI: worker when nothing needs the device)
//   path       with the scenario `file`: a scenario document (JSON; see
//              firmware-sim/world/scenario-file/README.md), e.g. sim://file?path=my.json;
//              read and checked here, its faults run before the URL's
import { SimError } from '../device/errors.ts';
import type { LedAging } from '../device/create.ts';
import { type FaultSpec, parseFaults } from '../device/faults.ts';
import { type HardwareFault, parseHardwareFaults } from '../device/hardware-faults.ts';
import { loadScenarioFile, type ScenarioFile } from '../device/scenario-file.ts';

export type Speed = number | 'max';
/** Where a sim:// device runs: this thread, or a worker thread. */
export type SimThread = 'main' | 'worker';

export interface SimUrl {
  url: string;
  scenario: string;
  seed: number;
  speed: Speed;
  driftPpm: number;
  faults: FaultSpec[];
  linkBytesPerSecond: number | undefined;
  loopbackLine: number | undefined;
  persist: boolean;
  /** Present only with thread=: where the world and device run (absent: the opener decides). */
  thread?: SimThread;
  /** Present only with sync_bus=: the shared sync line's name and this rig's input line on it. */
  syncBus?: { name: string; inputLine: number };
  /** Present only when the URL ages an LED. */
  ledAging?: LedAging[];
  /** Present only when the URL names hardware faults (`hw=` or the scenario file's). */
  hardwareFaults?: HardwareFault[];
  /** Present only for sim://file?path=…: the file, read and validated. */
  scenarioFile?: ScenarioFile;
}

/** The scenario name of sim://file?path=FILE. */
export const FILE_SCENARIO = 'file';

const KEYS = new Set(['seed', 'speed', 'drift_ppm', 'faults', 'link_bps', 'loopback', 'persist', 'led_aging', 'hw', 'path', 'sync_bus', 'sync_in', 'thread']);
const HINT = 'write sim://SCENARIO?seed=1&speed=10, e.g. sim://linear or sim://sleep?speed=max';

/** Bounds of the URL's numbers: outside them a run never progresses, never ends, or aliases another. */
export const SIM_URL_RANGES = Object.freeze({
  seed: { min: 0, max: 0xffff_ffff },
  speed: { min: 0.001, max: 1e6 },
  driftPpm: { min: -1e5, max: 1e5 },
  linkBytesPerSecond: { min: 10, max: 1e9 },
  id: { min: 0, max: 255 },
});

export function parseSpeed(text: string): Speed {
  if (text === 'max') return 'max';
  const v = Number(text);
  const { min, max } = SIM_URL_RANGES.speed;
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
    throw new SimError('E_SIM_URL', `speed "${text}" is not a number in ${min}..${max} or "max"`, 'use speed=1 (real time), speed=10, or speed=max');
  }
  return v;
}

/** `CH:F[,CH:F...]`: LED channel ids and light factors in (0, 2]. */
export function parseLedAging(text: string): LedAging[] {
  const out: LedAging[] = [];
  const hint = 'write led_aging=CHANNEL:FACTOR[,CHANNEL:FACTOR], e.g. led_aging=1:0.85';
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const m = /^\s*(\d+)\s*:\s*([0-9.eE+-]+)\s*$/.exec(part);
    const factor = m ? Number(m[2]) : Number.NaN;
    if (!m || !(Number.isFinite(factor) && factor > 0 && factor <= 2)) throw new SimError('E_SIM_URL', `led_aging "${part}" is not CHANNEL:FACTOR with 0 < FACTOR <= 2`, hint);
    const channel = Number(m[1]);
    if (channel > SIM_URL_RANGES.id.max) throw new SimError('E_SIM_URL', `led_aging "${part}": LED ${m[1]} is not a channel id (0..${SIM_URL_RANGES.id.max})`, hint);
    if (out.some((a) => a.channel === channel)) throw new SimError('E_SIM_URL', `led_aging names LED ${channel} twice`, hint);
    out.push({ channel, factor });
  }
  return out;
}

export function parseSimUrl(url: string): SimUrl {
  const m = /^sim:\/\/([^/?#]*)\/?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!m) throw new SimError('E_SIM_URL', `"${url}" is not a sim:// URL`, HINT);
  const scenario = decodeURIComponent(m[1] ?? '');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(scenario)) throw new SimError('E_SIM_URL', `"${url}" names no valid scenario`, HINT);
  const params = new URLSearchParams(m[2] ?? '');
  for (const key of params.keys()) {
    if (!KEYS.has(key)) throw new SimError('E_SIM_URL', `unknown option "${key}" in ${url}`, `sim:// options: ${[...KEYS].join(', ')}`);
  }
  const int = (key: string, fallback: number, range: { min: number; max: number }): number => {
    const text = params.get(key);
    if (text === null) return fallback;
    const v = Number(text);
    if (text.trim() === '' || !Number.isInteger(v) || v < range.min || v > range.max) throw new SimError('E_SIM_URL', `${key} "${text}" is not an integer in ${range.min}..${range.max}`, HINT);
    return v;
  };
  const number = (key: string, range: { min: number; max: number }): number | undefined => {
    const text = params.get(key);
    if (text === null) return undefined;
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || v < range.min || v > range.max) throw new SimError('E_SIM_URL', `${key} "${text}" is not a number in ${range.min}..${range.max}`, HINT);
    return v;
  };
  const linkBytesPerSecond = number('link_bps', SIM_URL_RANGES.linkBytesPerSecond);
  const persistText = params.get('persist');
  if (persistText !== null && persistText !== '0' && persistText !== '1') throw new SimError('E_SIM_URL', `persist "${persistText}" is not 0 or 1`, HINT);
  const loopbackText = params.get('loopback');
  const ledAging = parseLedAging(params.get('led_aging') ?? '');
  const path = params.get('path');
  if ((path !== null) !== (scenario === FILE_SCENARIO)) {
    throw new SimError('E_SIM_URL', scenario === FILE_SCENARIO ? `${url}: sim://file needs path=FILE` : `${url}: path= is only for sim://file`, 'write sim://file?path=my-scenario.json[&seed=N&speed=…]');
  }
  const scenarioFile = path === null ? undefined : loadScenarioFile(path);
  const syncBusName = params.get('sync_bus');
  if (syncBusName === null && params.get('sync_in') !== null) throw new SimError('E_SIM_URL', `${url}: sync_in= needs sync_bus=NAME`, 'write e.g. sim://sleep?sync_bus=lab1&sync_in=0');
  if (syncBusName !== null && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(syncBusName)) {
    throw new SimError('E_SIM_URL', `sync_bus "${syncBusName}" is not 1-64 letters, digits, _ . -`, 'name the bus e.g. sync_bus=lab1');
  }
  const syncBus = syncBusName === null ? undefined : { name: syncBusName, inputLine: int('sync_in', 0, SIM_URL_RANGES.id) };
  const threadText = params.get('thread');
  if (threadText !== null && threadText !== 'main' && threadText !== 'worker') throw new SimError('E_SIM_URL', `thread "${threadText}" is not main or worker`, 'write thread=worker (a worker thread) or thread=main');
  const hardwareFaults = [...(scenarioFile?.hardwareFaults ?? []), ...parseHardwareFaults(params.get('hw') ?? '')];
  return {
    url,
    scenario,
    seed: int('seed', 1, SIM_URL_RANGES.seed),
    speed: parseSpeed(params.get('speed') ?? '1'),
    driftPpm: number('drift_ppm', SIM_URL_RANGES.driftPpm) ?? 0,
    faults: [...(scenarioFile?.faults ?? []), ...parseFaults(params.get('faults') ?? '')],
    linkBytesPerSecond,
    loopbackLine: loopbackText === null ? undefined : int('loopback', 0, SIM_URL_RANGES.id),
    persist: persistText === '1',
    ...(threadText !== null ? { thread: threadText } : {}),
    ...(syncBus ? { syncBus } : {}),
    ...(ledAging.length > 0 ? { ledAging } : {}),
    ...(hardwareFaults.length > 0 ? { hardwareFaults } : {}),
    ...(scenarioFile ? { scenarioFile } : {}),
  };
}
