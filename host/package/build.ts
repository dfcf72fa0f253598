// Builds the installable package's dist/ (run by `npm pack` / `npm publish` through the
// `prepack` script): the package entry points compiled by tsc to plain ESM JavaScript with
// .d.ts declarations, so a consumer needs neither tsx nor our tsconfig. The sources import
// each other with .ts extensions; tsc rewrites them to .js in the JavaScript
// (--rewriteRelativeImportExtensions) and this script does the same in the declarations.
// Files the compiled code reads or imports that tsc does not emit (the generated protobuf
// module, the .proto and its nanopb options) are copied beside it.
//   node --import=tsx host/package/build.ts [--out DIR]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The package entry points (package.json "exports"), repository-relative. */
export const ENTRY_POINTS: readonly string[] = ['host/index.ts', 'host/sim.ts', 'host/testing/index.ts', 'host/dsp/index.ts'];
/** Ambient declarations the sources need (untyped npm packages). */
const AMBIENT = ['host/types/debug.d.ts'];
/** Non-TypeScript files the compiled code reaches, copied as they are. */
const COPIED = [
  'protocol/generated/fiberrig.js', 'protocol/generated/fiberrig.d.ts', 'protocol/fiberrig.proto', 'protocol/fiberrig.options',
  'host/record/rawlog-io-worker.js', ...AMBIENT,
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** `./x.ts` -> `./x.js` in relative import/export specifiers of a declaration file. */
export function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(/((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]*?)(?<!\.d)\.ts\2/g, '$1$2$3.js$2');
}

/** A declaration that imports an untyped package gets a reference to our ambient declaration of it (consumers lack it). */
function withAmbientReferences(outDir: string, file: string, text: string): string {
  const refs = AMBIENT.filter((a) => new RegExp(`from '${a.replace(/^.*\//, '').replace(/\.d\.ts$/, '')}'`).test(text))
    .map((a) => `/// <reference path="${relative(dirname(file), join(outDir, a)).replaceAll('\\', '/')}" />\n`);
  return refs.join('') + text;
}

export function buildPackage(outDir = join(ROOT, 'dist')): void {
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const result = spawnSync(process.execPath, [
    tsc, ...ENTRY_POINTS, ...AMBIENT, '--ignoreConfig', '--outDir', outDir, '--rootDir', ROOT,
    '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2023', '--types', 'node',
    '--strict', '--noUncheckedIndexedAccess', '--skipLibCheck', '--verbatimModuleSyntax', '--resolveJsonModule',
    '--declaration', '--rewriteRelativeImportExtensions', '--pretty', 'false',
  ], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc failed (status ${result.status}):\n${result.stdout}${result.stderr}`);
  for (const file of COPIED) {
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(outDir, file));
  }
  const leftovers: string[] = [];
  for (const file of filesUnder(outDir)) {
    if (file.endsWith('.d.ts')) writeFileSync(file, withAmbientReferences(outDir, file, rewriteDeclarationSpecifiers(readFileSync(file, 'utf8'))));
    else if (file.endsWith('.js') && /from\s*['"]\.\.?\/[^'"]*\.ts['"]/.test(readFileSync(file, 'utf8'))) leftovers.push(relative(outDir, file));
  }
  if (leftovers.length) throw new Error(`compiled files still import .ts modules: ${leftovers.join(', ')}`);
  for (const entry of ENTRY_POINTS) {
    const js = join(outDir, entry.replace(/\.ts$/, '.js'));
    if (!existsSync(js)) throw new Error(`entry point ${entry} was not compiled to ${relative(ROOT, js)}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  buildPackage(i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : undefined);
}
