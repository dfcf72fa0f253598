// Code blocks of README.md marked <!-- NAME:start --> … <!-- NAME:end -->: documentation the tests run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The code of the README block marked `name` (throws when the markers or the fence are missing). */
export function readmeBlock(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- ${name}:start -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`).exec(readme);
  if (!m) throw new Error(`README.md has no block marked ${name}`);
  return m[1]!;
}

/** The README's HIL example with its `fiberrig/…` imports pointed at the repository's entry points, from a file `depth` folders below the root. */
export function hilExampleInRepo(depth: number): string {
  const up = '../'.repeat(depth);
  return readmeBlock('hil-example')
    .replaceAll("from 'fiberrig'", `from '${up}host/index.ts'`)
    .replaceAll("from 'fiberrig/testing'", `from '${up}host/testing/index.ts'`)
    .replaceAll("from 'fiberrig/sim'", `from '${up}host/sim.ts'`)
    .replaceAll("from 'fiberrig/dsp'", `from '${up}host/dsp/index.ts'`);
}
