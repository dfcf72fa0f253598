// `fiberrig flash --board pyboard [--firmware FILE] [--via dfu|stlink] [--device URL]`:
// write a firmware image to a board and verify its build id. Progress on
// stderr, a summary on stdout (text, or JSON with --json); exit 1 on any failure.
import { join } from 'node:path';
import type { Command } from 'commander';
import { BOARDS_DIR, loadBoard } from '../../flash/board.ts';
import { FlashError } from '../../flash/errors.ts';
import { type FlashOptions, type FlashVia, flashBoard } from '../../flash/flash.ts';
import '../devices.ts';
import type { CliIo, Runner } from '../main.ts';

export interface FlashCliOptions {
  board: string;
  firmware?: string;
  via: string;
  device?: string;
  /** commander's --no-verify sets this false. */
  verify?: boolean;
  timeout?: string;
  dfuWait?: string;
  json?: boolean;
  quiet?: boolean;
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = Number(value);
  if (!(Number.isFinite(s) && s > 0 && s <= 600)) throw new FlashError('E_FLASH_USAGE', `${flag} ${value} is not in (0, 600] seconds`, `e.g. ${flag} 20`);
  return s * 1000;
}

export function defaultFirmware(boardName: string, via: FlashVia): string {
  return join(BOARDS_DIR, '..', 'firmware', 'build', boardName, `fiberrig-fw-${boardName}.${via === 'dfu' ? 'dfu' : 'elf'}`);
}

export async function flashCommand(io: CliIo, opts: FlashCliOptions): Promise<number> {
  if (opts.via !== 'dfu' && opts.via !== 'stlink') throw new FlashError('E_FLASH_USAGE', `--via ${opts.via} is not dfu or stlink`, 'use --via dfu (USB, BOOT0) or --via stlink (SWD probe)');
  const via: FlashVia = opts.via;
  const board = loadBoard(opts.board);
  const options: FlashOptions = {
    board,
    via,
    firmware: opts.firmware ?? defaultFirmware(board.name, via),
    device: opts.device ?? board.usb.cdcPath,
    verify: opts.verify !== false,
  };
  const returnTimeoutMs = seconds(opts.timeout, '--timeout');
  if (returnTimeoutMs !== undefined) options.returnTimeoutMs = returnTimeoutMs;
  const dfuWaitMs = seconds(opts.dfuWait, '--dfu-wait');
  if (dfuWaitMs !== undefined) options.dfuWaitMs = dfuWaitMs;
  if (!opts.quiet) options.onProgress = (message) => io.stderr.write(`flash: ${message}\n`);
  const result = await flashBoard(options);
  if (opts.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout.write(`flashed ${result.firmware} (build ${result.buildId}) to ${result.board} via ${result.via}${result.verified ? `; verified at ${result.device}` : '; not verified'}\n`);
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .requiredOption('--board <name>', 'board definition: a name in hardware/boards (pyboard) or a JSON file')
    .option('--firmware <file>', 'image: .dfu or .bin for dfu, .elf or .bin for stlink (default: hardware/firmware/build/BOARD/)')
    .option('--via <tool>', 'dfu (dfu-util, BOOT0 / EnterBootloader) or stlink (openocd)', 'dfu')
    .option('--device <url>', 'where the running board is and comes back (default: the board\'s USB CDC path, /dev/ttyACM0)')
    .option('--no-verify', 'do not wait for the board and check its build id')
    .option('--timeout <s>', 'seconds to wait for the board to come back (default 20)')
    .option('--dfu-wait <s>', 'seconds to look for the board in DFU mode (default 10)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .action((opts: FlashCliOptions) => run(() => flashCommand(io, opts))());
}
