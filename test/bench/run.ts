// `npm run bench`: runs every test/bench/*.bench.ts and prints one JSON line
// per figure on stdout ({"name", "value", "unit", ...}). Progress goes to stderr.
// `npm run bench -- protocol` runs only the benches whose file name contains "protocol".
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyV8Flags } from '../../host/cli/v8-flags.js';

// the fiberrig command's V8 settings (host/cli/v8-flags.js): the benches measure what it runs
applyV8Flags();

export interface BenchRecord {
  name: string;
  /** null only with a `reason` field saying why the figure could not be measured (never skipped silently). */
  value: number | null;
  unit: string;
  [key: string]: unknown;
}
export type Emit = (record: BenchRecord) => void;

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const emit: Emit = (record) => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: (emit: Emit) => Promise<void> };
  await mod.run(emit);
}
