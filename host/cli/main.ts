// The fiberrig command line. The CLI owns stdout (data, --json) and stderr
// (progress, logs); library code never prints.
import { Command, CommanderError } from 'commander';
import { FiberrigError } from '../../protocol/index.ts';
import { loopbackCommand } from './commands/loopback.ts';

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
    .command('start')
    .description('the main job on the built-in simulator (npm start)')
    .action(() => run(() => loopbackCommand(io, { json: false }))());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof FiberrigError) {
      io.stderr.write(`fiberrig: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
