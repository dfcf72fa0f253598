#!/usr/bin/env node
// fiberrig command-line entry. It runs host/cli/main.ts compiled to plain JS
// (host/cli/.cache/main.js), so `fiberrig --help` and `--version` start
// without a TypeScript loader; main loads tsx only with the module of the
// command being run. The compiled file is rebuilt with tsc (type-stripping
// only: `npm run typecheck` checks types) whenever main.ts changed; where
// that cannot be done (no typescript installed, a read-only tree), main.ts
// runs through tsx as before.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativePreloads } from './native-preloads.js';
import { applyV8Flags } from './v8-flags.js';

applyV8Flags();

const cliDir = dirname(fileURLToPath(import.meta.url));
const source = join(cliDir, 'main.ts');
const cacheDir = join(cliDir, '.cache');
const compiled = join(cacheDir, 'main.js');

/**
 * main.js carries main.ts's mtime: any other mtime (an edit, a checkout of an older main.ts) means rebuild.
 * Within a millisecond: utimes keeps less precision than some file systems store.
 */
function isFresh() {
  try {
    return Math.abs(statSync(compiled).mtimeMs - statSync(source).mtimeMs) < 1;
  } catch {
    return false;
  }
}

/** Compiles main.ts into .cache/main.js (atomically: concurrent starts never see half a file); false when it cannot. */
function compile() {
  let tmp;
  try {
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
    mkdirSync(cacheDir, { recursive: true });
    tmp = mkdtempSync(join(cacheDir, 'build-'));
    const result = spawnSync(process.execPath, [
      tsc, source, '--outDir', tmp, '--rootDir', cliDir, '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--types', 'node', '--skipLibCheck', '--verbatimModuleSyntax', '--noCheck', '--pretty', 'false', '--ignoreConfig',
    ], { stdio: 'ignore' });
    if (result.status !== 0) return false;
    const { atime, mtime } = statSync(source);
    utimesSync(join(tmp, 'main.js'), atime, mtime);
    renameSync(join(tmp, 'main.js'), compiled);
    return true;
  } catch {
    return false;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

// before any TypeScript loader: what tsx must not load (native-preloads.js says why)
for (const spec of nativePreloads(process.argv.slice(2))) await import(spec);

let main;
if (isFresh() || compile()) {
  ({ main } = await import('./.cache/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
