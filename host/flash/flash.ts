// `fiberrig flash`: put a running board into its bootloader, write an image
// with dfu-util (USB DFU, the STM32's ROM bootloader) or openocd (ST-Link),
// wait for the board to come back and check its build id against the image's.
// Library code: progress goes to onProgress, failures are FlashErrors.
import { existsSync } from 'node:fs';
import { Rig } from '../rig/rig.ts';
import type { BoardDefinition } from './board.ts';
import { FlashError } from './errors.ts';
import { type ImageIdentity, readImageIdentity } from './image.ts';
import { runTool, tail } from './tools.ts';

export type FlashVia = 'dfu' | 'stlink';

export interface FlashOptions {
  board: BoardDefinition;
  firmware: string;
  via: FlashVia;
  /** Where the running board is, and where it comes back after flashing (serial path or URL). */
  device?: string;
  /** Check the build id through DeviceInfo afterwards (default true; needs device). */
  verify?: boolean;
  env?: NodeJS.ProcessEnv;
  /** How long to look for the board in DFU mode (default 10 s). */
  dfuWaitMs?: number;
  /** How long to wait for the board to come back after flashing (default 20 s). */
  returnTimeoutMs?: number;
  pollMs?: number;
  onProgress?: (message: string) => void;
}

export interface FlashResult {
  board: string;
  model: string;
  firmware: string;
  buildId: string;
  via: FlashVia;
  enteredBootloader: boolean;
  tool: string;
  args: string[];
  verified: boolean;
  device: string | null;
}

export interface DfuDevice {
  vidPid: string;
  alt: number;
  name: string;
  serial: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Parses `dfu-util -l` output ("Found DFU: [0483:df11] … alt=0, name="@Internal Flash  /0x08000000/…", serial="…""). */
export function parseDfuList(output: string): DfuDevice[] {
  const found: DfuDevice[] = [];
  for (const line of output.split('\n')) {
    const m = /Found DFU: \[([0-9a-fA-F]{4}:[0-9a-fA-F]{4})\].*?alt=(\d+), name="([^"]*)"(?:, serial="([^"]*)")?/.exec(line);
    if (m) found.push({ vidPid: (m[1] ?? '').toLowerCase(), alt: Number(m[2]), name: m[3] ?? '', serial: m[4] ?? '' });
  }
  return found;
}

function serialPathOf(url: string): string | null {
  if (!url.startsWith('/')) return null;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

async function tryConnect(url: string, timeoutMs: number): Promise<Rig | Error> {
  let timer: NodeJS.Timeout | undefined;
  const connecting = Rig.connect(url, { requestTimeoutMs: Math.min(timeoutMs, 1500), retries: 1, reconnect: false });
  const timeout = new Promise<Error>((r) => { timer = setTimeout(() => r(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs); });
  try {
    const result = await Promise.race([connecting.then((rig) => rig as Rig | Error, (e: unknown) => (e instanceof Error ? e : new Error(String(e)))), timeout]);
    if (result instanceof Error) void connecting.then((rig) => rig.close(), () => undefined);
    return result;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function checkModel(board: BoardDefinition, model: string, where: string): void {
  if (model !== board.model) {
    throw new FlashError('E_FLASH_WRONG_BOARD', `the board at ${where} is a "${model}", not a "${board.model}" (--board ${board.name})`, `pick the matching --board, or connect the ${board.name}`);
  }
}

async function enterBootloader(opts: FlashOptions, device: string, progress: (m: string) => void): Promise<boolean> {
  const rig = await tryConnect(device, 3000);
  if (rig instanceof Error) {
    progress(`no running fiberrig firmware at ${device} (${rig.message})`);
    if (opts.via === 'dfu') progress(`if the board is not in DFU mode yet: ${opts.board.bootloader.boot0}`);
    return false;
  }
  try {
    checkModel(opts.board, rig.info.boardModel, device);
    progress(`found ${rig.info.boardModel} at ${device}, firmware ${rig.info.firmwareVersion} build ${rig.info.buildId}`);
    if (opts.via === 'stlink') return false;
    await rig.command({ enterBootloader: {} });
    progress('asked the board to enter its bootloader');
    return true;
  } finally {
    await rig.close().catch(() => undefined);
  }
}

async function findDfu(opts: FlashOptions, env: NodeJS.ProcessEnv, progress: (m: string) => void): Promise<DfuDevice> {
  const vidPid = `${opts.board.usb.vid.replace(/^0x/, '')}:${opts.board.usb.dfuPid.replace(/^0x/, '')}`.toLowerCase();
  const deadline = Date.now() + (opts.dfuWaitMs ?? 10_000);
  let listing: DfuDevice[] = [];
  for (;;) {
    const { output } = await runTool('dfu-util', ['-l'], { env, timeoutMs: 15_000 });
    listing = parseDfuList(output);
    if (listing.length > 0) break;
    if (Date.now() >= deadline) break;
    await sleep(opts.pollMs ?? 500);
  }
  const ours = listing.filter((d) => d.vidPid === vidPid);
  if (ours.length === 0) {
    if (listing.length > 0) {
      throw new FlashError('E_FLASH_WRONG_BOARD', `the DFU device found is ${listing[0]?.vidPid} ("${listing[0]?.name}"), not an STM32 bootloader (${vidPid})`, `unplug other DFU devices and connect the ${opts.board.name}`);
    }
    throw new FlashError('E_FLASH_NO_BOARD', 'dfu-util found no DFU device', opts.board.bootloader.boot0);
  }
  const flash = ours.find((d) => d.alt === 0) ?? ours[0]!;
  if (!flash.name.includes(opts.board.usb.dfuFlashLayout)) {
    throw new FlashError('E_FLASH_WRONG_BOARD', `the STM32 in DFU mode has flash "${flash.name}", not the ${opts.board.mcu}'s "${opts.board.usb.dfuFlashLayout}"`, `this image is for the ${opts.board.name} (${opts.board.mcu}): connect that board, or pick the matching --board`);
  }
  progress(`found the ${opts.board.mcu} bootloader (${vidPid}${flash.serial ? `, serial ${flash.serial}` : ''})`);
  return flash;
}

export function dfuArgs(board: BoardDefinition, firmware: string): string[] {
  const vidPid = `${board.usb.vid.replace(/^0x/, '')}:${board.usb.dfuPid.replace(/^0x/, '')}`;
  // a .dfu (DfuSe) file carries its own target address; a .bin is written at the start of flash
  if (firmware.endsWith('.dfu')) return ['-a', '0', '-d', vidPid, '-s', ':leave', '-D', firmware];
  return ['-a', '0', '-d', vidPid, '-s', '0x08000000:leave', '-D', firmware];
}

export function openocdArgs(firmware: string): string[] {
  const program = firmware.endsWith('.bin') ? `program ${firmware} 0x08000000 verify reset exit` : `program ${firmware} verify reset exit`;
  return ['-f', 'interface/stlink.cfg', '-f', 'target/stm32f4x.cfg', '-c', program];
}

async function waitForBoard(opts: FlashOptions, device: string, image: ImageIdentity, progress: (m: string) => void): Promise<void> {
  const timeoutMs = opts.returnTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const path = serialPathOf(device);
  progress(`waiting for the board to come back at ${device}`);
  if (path !== null) {
    while (!existsSync(path)) {
      if (Date.now() >= deadline) {
        throw new FlashError('E_FLASH_NO_RETURN', `${path} did not reappear within ${timeoutMs / 1000} s after flashing`, `remove the BOOT0/DFU jumper and press RST; if the link is a USB-serial adapter, pass its path with --device`);
      }
      await sleep(opts.pollMs ?? 250);
    }
  }
  let last: Error | null = null;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const rig = await tryConnect(device, Math.max(500, Math.min(3000, left)));
    if (!(rig instanceof Error)) {
      try {
        checkModel(opts.board, rig.info.boardModel, device);
        if (rig.info.buildId !== image.buildId) {
          throw new FlashError('E_FLASH_VERIFY', `the board runs build "${rig.info.buildId}" after flashing, the image is build "${image.buildId}"`, 'the write did not take or --firmware is not the image you built: flash again (set BOOT0 by hand if the board did not enter its bootloader)');
        }
        progress(`verified: ${rig.info.boardModel} runs build ${rig.info.buildId}`);
        return;
      } finally {
        await rig.close().catch(() => undefined);
      }
    }
    last = rig;
    await sleep(opts.pollMs ?? 250);
  }
  throw new FlashError('E_FLASH_NO_RETURN', `the board did not answer at ${device} within ${timeoutMs / 1000} s after flashing${last ? ` (${last.message})` : ''}`, 'remove the BOOT0/DFU jumper and press RST, then run `fiberrig flash` again or check with `fiberrig selftest`');
}

export async function flashBoard(opts: FlashOptions): Promise<FlashResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const env = opts.env ?? process.env;
  const image = readImageIdentity(opts.firmware);
  if (image.boardModel !== null && image.boardModel !== opts.board.model) {
    throw new FlashError('E_FLASH_WRONG_BOARD', `${opts.firmware} was built for "${image.boardModel}", not "${opts.board.model}" (--board ${opts.board.name})`, `build the image for this board (make -C hardware/firmware ${opts.board.name}) or pick the matching --board`);
  }
  if (opts.via === 'stlink' && opts.firmware.endsWith('.dfu')) {
    throw new FlashError('E_FLASH_USAGE', 'openocd cannot write a .dfu file', 'give the .elf (or the .bin) with --firmware when flashing --via stlink');
  }
  progress(`image ${opts.firmware}: build ${image.buildId}, ${image.bytes} bytes`);
  const device = opts.device ?? null;
  const enteredBootloader = device !== null ? await enterBootloader(opts, device, progress) : false;

  let tool: string;
  let args: string[];
  if (opts.via === 'dfu') {
    await findDfu(opts, env, progress);
    tool = 'dfu-util';
    args = dfuArgs(opts.board, opts.firmware);
    progress(`dfu-util ${args.join(' ')}`);
    const { code, output } = await runTool(tool, args, { env, timeoutMs: 120_000 });
    if (code !== 0) throw new FlashError('E_FLASH_TOOL_FAILED', `dfu-util failed (exit ${code}): ${tail(output)}`, 'check the USB cable, keep the board in DFU mode (BOOT0 jumper) and try again');
  } else {
    tool = 'openocd';
    args = openocdArgs(opts.firmware);
    progress(`openocd ${args.join(' ')}`);
    const { code, output } = await runTool(tool, args, { env, timeoutMs: 120_000 });
    if (code !== 0) {
      if (/open failed|unable to find|no device found|init mode failed/i.test(output)) {
        throw new FlashError('E_FLASH_NO_BOARD', `openocd found no ST-Link or no target: ${tail(output)}`, 'plug in the ST-Link, wire SWDIO, SWCLK, GND and 3V3 to the board and power it');
      }
      if (/UNEXPECTED idcode|Cannot identify target|unknown flash device/i.test(output)) {
        throw new FlashError('E_FLASH_WRONG_BOARD', `openocd does not see an STM32F4 on the probe: ${tail(output)}`, `connect the ${opts.board.name} (${opts.board.mcu}) to the ST-Link`);
      }
      throw new FlashError('E_FLASH_TOOL_FAILED', `openocd failed (exit ${code}): ${tail(output)}`, 'check the SWD wiring and the board power, then try again');
    }
  }
  progress('image written');

  let verified = false;
  if (opts.verify !== false && device !== null) {
    await waitForBoard(opts, device, image, progress);
    verified = true;
  } else progress('not verified (no --device, or --no-verify)');
  return { board: opts.board.name, model: opts.board.model, firmware: opts.firmware, buildId: image.buildId, via: opts.via, enteredBootloader, tool, args, verified, device };
}
