// `fiberrig selftest --device URL [--json]`: the bring-up report of a rig.
// Progress on stderr, the report on stdout (text, or JSON with --json); exit
// code 1 when any line FAILs, 0 otherwise (WARN and N/A included).
import type { Command } from 'commander';
import { FiberrigError } from '../../../protocol/index.ts';
import { formatReport } from '../../selftest/format.ts';
import { runSelfTest, type SelfTestOptions } from '../../selftest/run.ts';
import '../devices.ts';
import type { CliIo, Runner } from '../main.ts';

export interface SelftestCliOptions {
  device: string;
  json?: boolean;
  loopback?: string;
  rateSeconds?: string;
  /** commander's --no-analog sets this false. */
  analog?: boolean;
  quiet?: boolean;
}

export async function selftestCommand(io: CliIo, opts: SelftestCliOptions): Promise<number> {
  const options: SelfTestOptions = {};
  if (opts.loopback !== undefined) {
    const line = Number(opts.loopback);
    if (opts.loopback.trim() === '' || !Number.isInteger(line) || line < 0 || line > 255) throw new FiberrigError('E_USAGE', `--loopback ${opts.loopback} is not a line number (0..255)`, 'give the digital input the sync output is wired to, e.g. --loopback 1');
    options.loopbackLine = line;
  }
  if (opts.rateSeconds !== undefined) {
    const s = Number(opts.rateSeconds);
    if (!(Number.isFinite(s) && s > 0 && s <= 600)) throw new FiberrigError('E_USAGE', `--rate-seconds ${opts.rateSeconds} is not in (0, 600]`, 'e.g. --rate-seconds 10 for a finer sample-rate measurement');
    options.rateSeconds = s;
  }
  if (opts.analog === false) options.analog = 'off';
  if (!opts.quiet) options.onProgress = (message) => io.stderr.write(`selftest: ${message}\n`);
  const report = await runSelfTest(opts.device, options);
  io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.outcome === 'FAIL' ? 1 : 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .description('bring-up report of a rig (PASS/WARN/FAIL/N/A per check; exit 1 on any FAIL). Put the fiber on a fluorescent reference target first')
    .requiredOption('--device <url>', 'serial path (/dev/ttyACM0?baud=…), tcp://HOST:PORT, or sim://SCENARIO (e.g. sim://steps)')
    .option('--loopback <line>', 'the digital input the sync output is wired to (its loopback then must pass)')
    .option('--rate-seconds <s>', 'host seconds of the sample-rate measurement (default 3)')
    .option('--no-analog', 'skip the LED and detector checks (reported N/A)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .action((opts: SelftestCliOptions) => run(() => selftestCommand(io, opts))());
}
