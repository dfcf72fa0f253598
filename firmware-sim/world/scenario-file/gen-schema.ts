// Writes scenario.schema.json (the JSON Schema of scenario documents, for editors) from the zod
// schema in spec.ts. `--check` fails when the committed file differs (run by `npm run gen:check`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioSchemaJson } from './schema.ts';

const file = join(dirname(fileURLToPath(import.meta.url)), 'scenario.schema.json');
const text = `${JSON.stringify(scenarioSchemaJson(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    // missing: differs
  }
  if (committed !== text) {
    process.stderr.write(`${file} differs from what spec.ts generates: run \`npm run gen\` and commit it\n`);
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
}
