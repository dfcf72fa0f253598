// The fiberrig command line. The CLI owns stdout (data, --json) and stderr
// (progress, logs); library code never prints.
//
// Start-up stays cheap: this file imports nothing of ours (bin.js runs it
// compiled to JS, without a TypeScript loader, so `--help` and `--version`
// cost little more than node itself). The table below names each command, its
// one-line summary and its module; only the module of the command being run
// is loaded. A command module exports `define(command, io, run)`, which adds
// its arguments, options and action to the Command created here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Wraps a command's body: its resolved number is the process exit code. */
export type Runner = (fn: () => Promise<number>) => () => Promise<void>;

/** What a command module exports. */
export interface CommandModule {
  define(command: Command, io: CliIo, run: Runner): void;
}

interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** Module path relative to host/cli/. */
  readonly module: string;
}

// One line per command (the order is the order of `fiberrig --help`).
const COMMANDS: readonly CommandEntry[] = [
  { name: 'loopback', module: './commands/loopback.ts', summary: 'exchange a handshake with an in-process loopback responder through the real framing, and print what crossed the wire' },
  { name: 'acquire', module: './commands/acquire.ts', summary: 'configure, start and record a device; progress on stderr, summary on stdout' },
  { name: 'info', module: './commands/info.ts', summary: 'what a device is: firmware, protocol version, board, LEDs, detectors, aux inputs, limits, calibration' },
  { name: 'demod', module: './commands/demod.ts', summary: 're-demodulate a recording offline from its raw log (bit-identical to the live result with equal settings)' },
  { name: 'export', module: './commands/export.ts', summary: 'export a recording for other tools: guppy, pmat, nwb, csv' },
  { name: 'align', module: './commands/align.ts', summary: 'put a group of recordings on one time axis by their shared sync line (one rig\'s sync output wired to the others\' digital inputs); writes alignment.json' },
  { name: 'analyze', module: './commands/analyze.ts', summary: 'analyse a recording: corrected ΔF/F, sleep scoring, NE oscillation; analysis.json, CSV tables and an HTML report' },
  { name: 'inspect', module: './commands/inspect.ts', summary: 'summarise a recording: duration, channels, rates, gaps, counters, device, configuration; exit code 3 when the raw log is damaged' },
  { name: 'calibrate', module: './commands/calibrate.ts', summary: 'calibrate LED power at the fiber tip (mA -> µW) per unit and store it on the device; --check measures drift against the stored table' },
  { name: 'selftest', module: './commands/selftest.ts', summary: 'bring-up report of a rig (PASS/WARN/FAIL/N/A per check; exit 1 on any FAIL)' },
  { name: 'cohort', module: './commands/cohort.ts', summary: 'compare groups of animals (simulated or recorded): per-animal table, group means with 95 % CIs, tests and effect sizes, report' },
  { name: 'flash', module: './commands/flash.ts', summary: 'write the firmware to a board (USB DFU or ST-Link) and verify its build id through DeviceInfo' },
  { name: 'ports', module: './commands/ports.ts', summary: 'list serial ports' },
  { name: 'sim', module: './commands/sim.ts', summary: 'serve simulated devices (one on a pty, one or --count N on TCP ports) for outside programs' },
  { name: 'view', module: './commands/view.ts', summary: 'watch a device live in the browser (no recording): signals, raw, aux, events, LED controls, device health' },
  { name: 'agent', module: './commands/agent.ts', summary: 'put a rig on the lab\'s NATS broker: fleet entry, commands, local recording mirrored into JetStream, live signals' },
  { name: 'archive', module: './commands/archive.ts', summary: 'the lab\'s central archive: every mirrored session byte-identical in DIR, then demodulated' },
  { name: 'lab', module: './commands/lab.ts', summary: 'the lab\'s browser dashboard: every rig\'s state and live trace, alarms, archive backlog; start/stop one rig or a selected group' },
  { name: 'start', module: './commands/start.ts', summary: 'the main job on the built-in simulator (npm start): ten minutes of the sleep scenario at 10x speed (about a minute)' },
];

/** This module's folder, host/cli/, also when it runs compiled from host/cli/.cache/. */
const CLI_DIR = ((): URL => {
  const here = new URL('.', import.meta.url);
  return here.pathname.endsWith('/.cache/') ? new URL('..', here) : here;
})();

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/** The version in package.json. */
export function fiberrigVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', CLI_DIR), 'utf8')) as { version: string }).version;
}

let typeScriptLoader: Promise<unknown> | undefined;

/** Loads a command's module; compiled (no TypeScript loader yet), it first registers tsx. */
export async function loadCommandModule(name: string): Promise<CommandModule> {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`no command ${name}`);
  const url = new URL(entry.module, CLI_DIR);
  // loaded through a require hook (tsx's, as mocha loads tests): require the module too, or it would be a second
  // instance of every module it shares with the caller (the registries of device drivers and simulated ports)
  if (typeof require === 'function') return require(fileURLToPath(url)) as CommandModule;
  if (!import.meta.url.endsWith('.ts')) typeScriptLoader ??= import('tsx/esm/api').then((tsx) => tsx.register());
  await typeScriptLoader;
  return (await import(url.href)) as CommandModule;
}

/** The command named on the command line (also by `help NAME`), if any. */
function invokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0] === 'help' ? words[1] : words[0];
  return first !== undefined && COMMAND_NAMES.includes(first) ? first : undefined;
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = new Command('fiberrig')
    .description('fiber photometry rig controller')
    .version(fiberrigVersion(), '-V, --version', 'print the fiberrig version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  let exitCode = 0;
  const run: Runner = (fn) => async () => {
    exitCode = await fn();
  };
  try {
    const invoked = invokedCommand(argv);
    for (const entry of COMMANDS) {
      const command = program.command(entry.name).description(entry.summary);
      if (entry.name === invoked) (await loadCommandModule(entry.name)).define(command, io, run);
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // fiberrig's errors (FiberrigError and the like) carry a code and say what to do
    if (error instanceof Error && 'code' in error && typeof (error as { code: unknown }).code === 'string' && !(error instanceof TypeError)) {
      io.stderr.write(`fiberrig: ${(error as Error & { code: string }).code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
