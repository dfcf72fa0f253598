// `npm run soak`: a whole day through `fiberrig acquire` on the simulator with
// faults, checked against ground truth; JSON lines on stdout (one figure per
// line with its unit), progress on stderr.
//   npm run soak -- [--hours 24] [--config default|light|FILE] [--out DIR] [--faults LIST] [--keep]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LOCKIN_CONFIG } from '../../host/config/acquisition.ts';
import { DAY_FAULTS, runDay } from './day.ts';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '24' },
    config: { type: 'string', default: 'default' },
    out: { type: 'string' },
    faults: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const hours = Number(values.hours);
const work = await mkdtemp(join(tmpdir(), 'fiberrig-soak-'));
let configFile = values.config!;
if (configFile === 'default') {
  configFile = join(work, 'default.json');
  await writeFile(configFile, JSON.stringify(DEFAULT_LOCKIN_CONFIG));
} else if (configFile === 'light') {
  configFile = fileURLToPath(new URL('./light-day.json', import.meta.url));
}
const outDir = values.out ?? join(work, 'rec');
const report = await runDay({
  configFile, hours, faults: values.faults ?? DAY_FAULTS(hours), seed: 1, scenario: 'sleep', outDir,
  exports: ['guppy', 'pmat', 'nwb', 'csv'],
  onProgress: (line) => process.stderr.write(`${line}\n`),
});
const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ name, value, unit, config: values.config, hours, ...extra })}\n`);
};
emit('soak.realtime_factor', (hours * 3600) / report.wallS, 'x');
emit('soak.wall', report.wallS, 's');
emit('soak.gaps_truth', report.truthGaps.length, 'gaps');
emit('soak.gaps_host', report.hostGaps.length, 'gaps');
emit('soak.gaps_unmatched', report.unmatched.host.length + report.unmatched.truth.length, 'gaps', { unmatched: report.unmatched });
emit('soak.gap_edge_error_max', report.maxEdgeErrorSamples / report.rateHz * 1000, 'ms');
emit('soak.rss_growth', report.rss.growthMb, 'MB', { warmMb: report.rss.warmMb, endMb: report.rss.endMb });
emit('soak.rss_max', report.rss.maxMb, 'MB');
emit('soak.raw_log', Number(report.summary.rawLogBytes) / 1e6, 'MB');
for (const e of report.exports) {
  emit(`soak.export_${e.format}.wall`, e.wallS, 's', { exitCode: e.exitCode });
  emit(`soak.export_${e.format}.max_rss`, e.maxRssMb, 'MB', { exitCode: e.exitCode });
}
process.stderr.write(`soak: ${report.exitCode === 0 ? 'completed' : `exit ${report.exitCode}`}; recording in ${outDir}\n`);
if (!values.keep && !values.out) await rm(work, { recursive: true, force: true });
