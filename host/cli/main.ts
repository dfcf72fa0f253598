// The fiberrig command line. The CLI owns stdout (data, --json) and stderr
// (progress, logs); library code never prints.
import { Command, CommanderError } from 'commander';
import { FiberrigError } from '../../protocol/index.ts';
import { listSerialPorts } from '../transport/ports.ts';
import './devices.ts';
import { acquireCommand } from './commands/acquire.ts';
import { registerAnalyzeCommand } from './commands/analyze.ts';
import { registerCalibrateCommand } from './commands/calibrate.ts';
import { registerCohortCommand } from './commands/cohort.ts';
import { registerDemodCommand } from './commands/demod.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerFlashCommand } from './commands/flash.ts';
import { registerInspectCommand } from './commands/inspect.ts';
import { registerSelftestCommand } from './commands/selftest.ts';
import { simCommand } from './commands/sim.ts';
import { loopbackCommand } from './commands/loopback.ts';
import { viewCommand } from './commands/view.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = new Command('fiberrig')
    .description('fiber photometry rig controller')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  let exitCode = 0;
  const run = (fn: () => Promise<number>) => async () => {
    exitCode = await fn();
  };
  program
    .command('loopback')
    .description('exchange a handshake with an in-process loopback responder through the real framing, and print what crossed the wire')
    .option('--json', 'print JSON on stdout')
    .action((opts: { json?: boolean }) => run(() => loopbackCommand(io, { json: Boolean(opts.json) }))());
  program
    .command('acquire')
    .description('configure, start and record a device; progress on stderr, summary on stdout')
    .requiredOption('--device <url>', 'serial path (/dev/ttyACM0?baud=…), sim://SCENARIO?seed=…&speed=…, or tcp://HOST:PORT')
    .option('--config <file>', 'acquisition config (JSON); default: 3-wavelength lock-in')
    .option('--duration <time>', 'device time to record, e.g. 90s, 10m, 1h', '10m')
    .option('--out <dir>', 'recording directory (default recordings/<timestamp>)')
    .option('--subject <id>', 'subject id stored with the recording')
    .option('--notes <text>', 'free-text notes stored with the recording (session.json)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .option('--live', 'serve the live view in the browser while recording')
    .option('--port <n>', 'live view port (default 8080; 0: any free port)')
    .action((opts: { device: string; config?: string; duration: string; out?: string; subject?: string; notes?: string; json?: boolean; quiet?: boolean; live?: boolean; port?: string }) => run(() => acquireCommand(io, opts))());
  registerDemodCommand(program, io, run);
  registerExportCommand(program, io, run);
  registerAnalyzeCommand(program, io, run);
  registerInspectCommand(program, io, run);
  registerCalibrateCommand(program, io, run);
  registerSelftestCommand(program, io, run);
  registerFlashCommand(program, io, run);
  registerCohortCommand(program, io, run);
  program
    .command('ports')
    .description('list serial ports')
    .option('--json', 'print JSON on stdout')
    .action((opts: { json?: boolean }) => run(async () => {
      const ports = await listSerialPorts();
      if (opts.json) io.stdout.write(`${JSON.stringify(ports)}\n`);
      else if (ports.length === 0) io.stdout.write('no serial ports found\n');
      else for (const p of ports) io.stdout.write(`${p.path}${p.manufacturer ? `  ${p.manufacturer}` : ''}${p.serialNumber ? `  ${p.serialNumber}` : ''}\n`);
      return 0;
    })());
  program
    .command('sim')
    .description('serve a simulated device on a pty or a TCP port for outside programs')
    .argument('[device]', 'sim://SCENARIO?seed=…&speed=…&faults=…', 'sim://sleep')
    .option('--pty <path>', 'create a pty at PATH (needs socat)')
    .option('--tcp <host:port>', 'listen on HOST:PORT')
    .action((device: string, opts: { pty?: string; tcp?: string }) => run(() => simCommand(io, { ...opts, device }))());
  program
    .command('view')
    .description('watch a device live in the browser (no recording): signals, raw, aux, events, LED controls, device health')
    .requiredOption('--device <url>', 'serial path, sim://SCENARIO?…, or tcp://HOST:PORT')
    .option('--config <file>', 'acquisition config (JSON); default: 3-wavelength lock-in')
    .option('--port <n>', 'HTTP port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', 'access token (generated when --host is not loopback)')
    .action((opts: { device: string; config?: string; port: string; host: string; token?: string }) => run(() => viewCommand(io, opts))());
  program
    .command('start')
    .description('the main job on the built-in simulator (npm start): ten minutes of the sleep scenario at 10x speed (about a minute), 3-wavelength lock-in')
    .option('--json', 'print the summary as JSON on stdout')
    .action((opts: { json?: boolean }) => run(() => acquireCommand(io, { device: 'sim://sleep?seed=1&speed=10', duration: '10m', ...(opts.json ? { json: true } : {}) }))());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof FiberrigError) {
      io.stderr.write(`fiberrig: ${error.code}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof Error && 'code' in error && typeof (error as { code: unknown }).code === 'string' && !(error instanceof TypeError)) {
      io.stderr.write(`fiberrig: ${(error as Error & { code: string }).code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
