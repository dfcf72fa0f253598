// The sim:// worker's code as one plain-JS file, so a worker starts without
// tsx. Loading sim-worker.ts through tsx costs a worker ~0.8 CPU-s before its
// device produces a byte: ~0.3 for tsx's own module-hooks thread and ~0.45
// to resolve, transpile and load its ~85 modules through it (a bare worker:
// ~0.05). The bundle (esbuild, tsx's own transpiler, with packages left as
// imports) is built once into firmware-sim/.cache (git-ignored) and rebuilt
// when any of its inputs changed (their mtimes are kept next to it).
//
// Modules keep working where they read files next to them only if their
// `import.meta.url` means the same from the bundle: the bundle sits one
// folder below firmware-sim, as they do, and is refused (the worker loads the
// TypeScript through tsx, as before) when an input uses import.meta in any
// other way than `new URL('../…', import.meta.url)`, when esbuild is missing,
// or when the folder cannot be written.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const transportDir = dirname(fileURLToPath(import.meta.url));
const simDir = dirname(transportDir);
const cacheDir = join(simDir, '.cache');
const bundlePath = join(cacheDir, 'sim-worker.mjs');
const inputsPath = join(cacheDir, 'sim-worker.inputs.json');

interface EsbuildApi {
  buildSync(options: Record<string, unknown>): { metafile?: { inputs: Record<string, unknown> }; outputFiles?: { text: string }[] };
}

/** mtime of every input (absolute path), as recorded with the bundle. */
type Inputs = Record<string, number>;

function isFresh(): boolean {
  try {
    statSync(bundlePath);
    const inputs = JSON.parse(readFileSync(inputsPath, 'utf8')) as Inputs;
    const paths = Object.keys(inputs);
    return paths.length > 0 && paths.every((p) => statSync(p).mtimeMs === inputs[p]);
  } catch {
    return false;
  }
}

/** esbuild as tsx has it (the transpiler tsx would run on the same files), or null. */
function esbuild(): EsbuildApi | null {
  try {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
    return fromTsx('esbuild') as EsbuildApi;
  } catch {
    return null;
  }
}

/** Modules whose import.meta serves only the opening thread (starting a worker): a worker never uses it. */
const OPENING_THREAD_ONLY = new Set(['worker-port.ts', 'worker-bundle.ts'].map((f) => join(transportDir, f)));

/** Whether every use of import.meta in `source` resolves alike from the bundle (one folder below firmware-sim). */
function metaUrlsPortable(file: string, source: string): boolean {
  if (OPENING_THREAD_ONLY.has(file)) return true;
  const uses = source.match(/import\.meta/g)?.length ?? 0;
  if (uses === 0) return true;
  const portable = source.match(/new URL\(\s*'\.\.\/[^']*',\s*import\.meta\.url\s*\)/g)?.length ?? 0;
  return portable === uses && dirname(dirname(file)) === simDir;
}

function build(): boolean {
  const api = esbuild();
  if (!api) return false;
  const result = api.buildSync({
    entryPoints: [join(transportDir, 'sim-worker.ts')],
    bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external',
    write: false, metafile: true, logLevel: 'silent', outfile: bundlePath, absWorkingDir: simDir,
  });
  const text = result.outputFiles?.[0]?.text;
  if (!text || !result.metafile) return false;
  const inputs: Inputs = {};
  for (const rel of Object.keys(result.metafile.inputs)) {
    const file = resolve(simDir, rel);
    if (!metaUrlsPortable(file, readFileSync(file, 'utf8'))) return false;
    inputs[file] = statSync(file).mtimeMs;
  }
  mkdirSync(cacheDir, { recursive: true });
  // written aside and renamed: a concurrent start reads a whole bundle (and at worst rebuilds it)
  const suffix = `.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(bundlePath + suffix, text);
  writeFileSync(inputsPath + suffix, JSON.stringify(inputs));
  renameSync(bundlePath + suffix, bundlePath);
  renameSync(inputsPath + suffix, inputsPath);
  return true;
}

let checked: string | null | undefined;

/**
 * The file URL of the worker's bundle, built or rebuilt now if needed (checked
 * once per process), or null: then load sim-worker.ts through tsx.
 * FIBERRIG_SIM_WORKER_TSX=1 skips the bundle.
 */
export function simWorkerBundleUrl(): string | null {
  if (checked !== undefined) return checked;
  checked = null;
  if (process.env.FIBERRIG_SIM_WORKER_TSX === '1') return checked;
  try {
    if (isFresh() || build()) checked = pathToFileURL(bundlePath).href;
  } catch {
    // no bundle (esbuild failed, a read-only tree): tsx, as before
  }
  return checked;
}
