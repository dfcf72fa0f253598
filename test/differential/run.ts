// Longer differential runs than CI's:
//   npm run differential -- --sequences 100000 --seed 7 [--pair native|native-pyboard|both] [--show 5] [--coverage]
// (--coverage lists what the firmware's side exercised: replies by command and error code, blocks, LedEvents, watchdog trips)
// Builds the host firmware first (make is incremental); exits 1 when any sequence diverges.
import { spawnSync } from 'node:child_process';
import { FIRMWARE_DIR } from '../conformance/target.ts';
import type { PairName } from './boards.ts';
import { describeDivergence, runDifferential } from './differential.ts';

const args = process.argv.slice(2);
let sequences = 10_000;
let seed = 1;
let pairs: PairName[] = ['native', 'native-pyboard'];
let show = 5;
let verbose = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const v = args[i + 1];
  if (a === '--sequences' && v) sequences = Number(args[++i]);
  else if (a === '--seed' && v) seed = Number(args[++i]);
  else if (a === '--show' && v) show = Number(args[++i]);
  else if (a === '--coverage') verbose = true;
  else if (a === '--pair' && v) {
    const p = args[++i]!;
    pairs = p === 'both' ? ['native', 'native-pyboard'] : [p as PairName];
  } else {
    process.stdout.write('usage: npm run differential -- [--sequences N] [--seed S] [--pair native|native-pyboard|both] [--show K] [--coverage]\n');
    process.exit(a === '--help' || a === '-h' ? 0 : 2);
  }
}
if (!(Number.isInteger(sequences) && sequences > 0) || !Number.isInteger(seed)) {
  process.stderr.write('differential: --sequences must be a positive integer and --seed an integer\n');
  process.exit(2);
}
for (const p of pairs) {
  if (p !== 'native' && p !== 'native-pyboard') {
    process.stderr.write(`differential: unknown pair "${p}": use native, native-pyboard or both\n`);
    process.exit(2);
  }
}

const made = spawnSync('make', ['-C', FIRMWARE_DIR, '--no-print-directory', 'host', 'host-pyboard'], { stdio: 'inherit' });
if (made.status !== 0) {
  process.stderr.write('differential: building the host firmware failed (see above); install the toolchain with .ci/run\'s Debian packages\n');
  process.exit(made.status ?? 1);
}

let failed = false;
for (const pair of pairs) {
  const n = pairs.length > 1 ? Math.ceil(sequences / pairs.length) : sequences;
  const started = Date.now();
  const r = await runDifferential({ pair, sequences: n, seed, maxDivergences: show });
  const s = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`differential: ${pair}: ${r.executed} sequences from seed ${seed}, ${r.divergences.length === 0 ? 'no divergence' : `${r.divergences.length}+ divergent`}, ${r.badFrames} bad frames, ${s} s\n`);
  for (const d of r.divergences.slice(0, show)) process.stdout.write(`${describeDivergence(d)}\n`);
  if (verbose) {
    for (const [k, n] of Object.entries(r.coverage).sort((a, b) => a[0].localeCompare(b[0]))) process.stdout.write(`  ${k} ${n}\n`);
  }
  if (r.divergences.length > 0 || r.badFrames > 0) failed = true;
}
process.exit(failed ? 1 : 0);
