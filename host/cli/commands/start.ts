// `fiberrig start` (what `npm start` runs): the main job on the built-in
// simulator, ten minutes of the sleep scenario at 10x speed (about a minute).
import type { Command } from 'commander';
import type { CliIo, Runner } from '../main.ts';
import { acquireCommand } from './acquire.ts';

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .option('--json', 'print the summary as JSON on stdout')
    .action((opts: { json?: boolean }) => run(() => acquireCommand(io, { device: 'sim://sleep?seed=1&speed=10', duration: '10m', ...(opts.json ? { json: true } : {}) }))());
}
