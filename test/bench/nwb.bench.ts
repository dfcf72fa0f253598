// NWB export memory (issue 20): the peak RSS of `fiberrig export --format nwb`
// (node host/cli/bin.js, a child process, so the figure is the export's own and
// the CLI loads its modules as users get them) for a 30 min and a 2 h recording
// of the default lock-in configuration (2 detectors x 10 kS/s, EEG/EMG 1 kS/s,
// synthesized straight into a raw log), against the CSV export of the same
// recording measured in the same run (the baseline: a streaming export without
// HDF5). Target: at most 300 MB for any length. For reference, the 30 min NWB
// export once more with tsx registered before the CLI starts, so h5wasm's glue
// goes through tsx's rewrite (what every export did before the CLI loaded h5wasm
// natively; host/export/README.md "NWB: memory").
// `npm run bench -- nwb` runs only this.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RAW_LOG_FILE_NAME } from '../../host/record/rawlog.ts';
import { PEAK_RSS_IMPORT, peakRssKb } from '../support/peak-rss.ts';
import { synthesize } from './record.bench.ts';
import type { Emit } from './run.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'host', 'cli', 'bin.js');
const LIMIT_MB = 300;

interface Run {
  peakRssMB: number;
  seconds: number;
  outputMB: number;
}

/** `fiberrig export` of `dir` in a child process: its own peak RSS, wall time and output size. */
function exportChild(dir: string, format: 'nwb' | 'csv', viaTsx = false): Run {
  const out = join(dir, `out-${format}${viaTsx ? '-tsx' : ''}`);
  const file = join(out, `rec.${format}`);
  const args = [...(viaTsx ? ['--import', 'tsx'] : []), '--import', PEAK_RSS_IMPORT, BIN, 'export', '--in', dir, '--format', format, '--out', file, '--json', '--quiet'];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } });
  const seconds = (performance.now() - t0) / 1000;
  try {
    if (r.status !== 0) throw new Error(`fiberrig export --format ${format} exited with ${r.status}: ${r.stderr}`);
    const files = (JSON.parse(r.stdout) as { files: string[] }).files;
    return { peakRssMB: peakRssKb(r.stderr) / 1024, seconds, outputMB: files.reduce((n, f) => n + statSync(f).size, 0) / 1e6 };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const mb = (x: number): number => Number(x.toFixed(1));

export async function run(emit: Emit): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fiberrig-bench-nwb-'));
  try {
    spawnSync(process.execPath, [BIN, '--version'], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } }); // builds the CLI's compiled entry if stale
    for (const [label, seconds] of [['30min', 1800], ['2h', 7200]] as const) {
      const dir = join(root, label);
      mkdirSync(dir);
      const written = await synthesize(join(dir, RAW_LOG_FILE_NAME), seconds);
      const csv = exportChild(dir, 'csv');
      const nwb = exportChild(dir, 'nwb');
      const common = { recordingS: seconds, rawLogMB: mb(written.bytes / 1e6), note: 'fiberrig export in a child process, its own peak RSS (VmHWM; test/support/peak-rss.ts)' };
      emit({ name: `export.csv.peak_rss_${label}`, value: mb(csv.peakRssMB), unit: 'MB', seconds: mb(csv.seconds), outputMB: mb(csv.outputMB), ...common, role: 'baseline for the NWB figure' });
      emit({
        name: `export.nwb.peak_rss_${label}`, value: mb(nwb.peakRssMB), unit: 'MB', limitMB: LIMIT_MB, withinLimit: nwb.peakRssMB <= LIMIT_MB,
        overCsvMB: mb(nwb.peakRssMB - csv.peakRssMB), seconds: mb(nwb.seconds), outputMB: mb(nwb.outputMB), ...common,
      });
      if (label === '30min') {
        const tsx = exportChild(dir, 'nwb', true);
        emit({
          name: 'export.nwb.peak_rss_30min_h5wasm_through_tsx', value: mb(tsx.peakRssMB), unit: 'MB', overNativeMB: mb(tsx.peakRssMB - nwb.peakRssMB), seconds: mb(tsx.seconds), ...common,
          role: 'reference: node --import tsx bin.js, h5wasm loaded through tsx (the export before issue 20)',
        });
      }
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
