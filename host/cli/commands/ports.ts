// `fiberrig ports [--json]`: the serial ports this host sees.
import type { Command } from 'commander';
import { listSerialPorts } from '../../transport/ports.ts';
import type { CliIo, Runner } from '../main.ts';

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .option('--json', 'print JSON on stdout')
    .action((opts: { json?: boolean }) => run(async () => {
      const ports = await listSerialPorts();
      if (opts.json) io.stdout.write(`${JSON.stringify(ports)}\n`);
      else if (ports.length === 0) io.stdout.write('no serial ports found\n');
      else for (const p of ports) io.stdout.write(`${p.path}${p.manufacturer ? `  ${p.manufacturer}` : ''}${p.serialNumber ? `  ${p.serialNumber}` : ''}\n`);
      return 0;
    })());
}
