// Which folder may import which (DESIGN.md: "dependencies point one way").
// Every source file belongs to a zone, its top-level folder; an import of
// ours (a relative specifier, or a file reached with new URL(…,
// import.meta.url)) is checked against the importing file's zone. npm
// packages and node: builtins are not ours and are always allowed. The rules
// and the host's public API are explained in test/boundaries/README.md.
import { posix } from 'node:path';
import type { ModuleImports } from './imports.ts';

export type Zone = 'protocol' | 'firmware-sim' | 'host' | 'hardware' | 'test' | 'root';

/** The module through which host reaches the simulator, and the one simulator module it may import. */
export const SIM_REGISTRATION = 'host/cli/devices.ts';
export const SIM_FACADE = 'firmware-sim/simulator.ts';

/**
 * The host's public API: the modules hardware/ (and users' scripts, as in
 * the README's example) may import. Everything else in host/ may change shape freely.
 */
export const HOST_PUBLIC_API: readonly string[] = [
  'host/rig/rig.ts', // the Rig: connect, configure, acquire, LEDs, digital lines
  'host/rig/errors.ts',
  'host/link/errors.ts',
  'host/config/acquisition.ts', // acquisition configs and their checks
  'host/pipeline/demodulate.ts', // blocks -> per-wavelength signals
  'host/transport/open.ts', // device URLs, registerBinding
  SIM_REGISTRATION, // registers sim:// (and the simulator's meter)
  // the package's entry points (package.json "exports"; README, "Using fiberrig as a package")
  'host/index.ts', // fiberrig
  'host/sim.ts', // fiberrig/sim (re-exports SIM_REGISTRATION's simulator API)
  'host/testing/index.ts', // fiberrig/testing
  'host/dsp/index.ts', // fiberrig/dsp
];

/** Computed (non-literal) imports the rules cannot follow, allowed where they stay inside their zone. */
export const COMPUTED_IMPORTS_ALLOWED: readonly string[] = [
  'host/cli/main.ts', // loads the command modules of its own table (host/cli/commands/)
  'host/cli/bin.js', // preloads the npm packages native-preloads.js lists (h5wasm) before the TypeScript loader
];

/** Browser code: there an absolute specifier is a URL the live server serves (e.g. /vendor/uPlot.esm.js), not a file. */
export const BROWSER_FOLDERS: readonly string[] = ['host/live/public/', 'host/lab/dashboard/public/'];

export interface Violation {
  /** The importing file, repository-relative. */
  file: string;
  line: number;
  /** Rule id (RULES). */
  rule: string;
  /** The import as written (null when computed). */
  specifier: string | null;
  /** The file or folder it reaches, repository-relative (null when not ours or computed). */
  target: string | null;
  message: string;
}

export interface Rule {
  id: string;
  /** What it protects, for reports. */
  why: string;
}

export const RULES = {
  knownZone: { id: 'known-zone', why: 'every source folder is protocol/, firmware-sim/, host/, hardware/ or test/, so a rule covers it (files at the top level are scripts: unrestricted, like tests)' },
  insideRepo: { id: 'inside-repo', why: 'imports of ours are relative and stay inside the repository' },
  literal: { id: 'literal-specifiers', why: 'a computed import cannot be checked; only listed modules may use one' },
  protocol: { id: 'protocol-imports-nothing-of-ours', why: 'protocol/ is the contract every side builds on: it imports only itself and npm packages' },
  simNotHost: { id: 'firmware-sim-never-imports-host', why: 'the simulator stands in for the device: it knows the protocol, never the host or the hardware folder' },
  hostSim: { id: 'host-reaches-sim-through-registration', why: `host reaches the simulator only through ${SIM_REGISTRATION} (which imports ${SIM_FACADE}), as hardware plugs in` },
  hostNotHardware: { id: 'host-never-imports-hardware', why: 'hardware/ builds on host, not the other way round' },
  hardwarePublic: { id: 'hardware-uses-host-public-api', why: 'hardware/ uses protocol/ and the host\'s public API only (HOST_PUBLIC_API), never the simulator' },
  noTests: { id: 'library-never-imports-tests', why: 'test/ may import anything; nothing outside test/ imports test/' },
} as const satisfies Record<string, Rule>;

const ZONES: readonly Zone[] = ['protocol', 'firmware-sim', 'host', 'hardware', 'test'];

/** The zone of a repository-relative path: its top-level folder, 'root' for anything else. */
export function zoneOf(path: string): Zone {
  const top = path.split('/', 1)[0]!;
  return (ZONES as readonly string[]).includes(top) ? (top as Zone) : 'root';
}

const isOurs = (specifier: string): boolean => specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';

/** Where a relative specifier of `file` leads, repository-relative ('..' first when it leaves the repository). */
export function resolveSpecifier(file: string, specifier: string): string {
  return posix.normalize(posix.join(posix.dirname(file), specifier.replace(/[?#].*$/, ''))).replace(/\/$/, '');
}

/** The rule an import of `file` reaching `target` breaks, with why, or null. */
function ruleFor(file: string, target: string): [Rule, string] | null {
  const from = zoneOf(file);
  const to = zoneOf(target);
  if (from === 'test' || from === 'root') return null;
  if (to === 'test') return [RULES.noTests, `${from}/ imports test/ (${target})`];
  switch (from) {
    case 'protocol':
      return to === 'protocol' ? null : [RULES.protocol, `protocol/ imports ${target}`];
    case 'firmware-sim':
      return to === 'host' || to === 'hardware' ? [RULES.simNotHost, `firmware-sim/ imports ${target}`] : null;
    case 'host':
      if (to === 'hardware') return [RULES.hostNotHardware, `host/ imports ${target}`];
      if (to !== 'firmware-sim') return null;
      if (file !== SIM_REGISTRATION) return [RULES.hostSim, `${file} imports the simulator (${target}); register what host needs in ${SIM_REGISTRATION}`];
      return target === SIM_FACADE ? null : [RULES.hostSim, `${SIM_REGISTRATION} imports ${target}; import the simulator's facade ${SIM_FACADE}`];
    case 'hardware':
      if (to === 'firmware-sim') return [RULES.hardwarePublic, `hardware/ imports the simulator (${target})`];
      if (to === 'host' && !HOST_PUBLIC_API.includes(target)) return [RULES.hardwarePublic, `hardware/ imports ${target}, which is not in the host's public API (${HOST_PUBLIC_API.join(', ')})`];
      return null;
    default:
      return null;
  }
}

/** Every boundary violation in `modules` (file order, then line order). */
export function checkBoundaries(modules: readonly ModuleImports[]): Violation[] {
  const out: Violation[] = [];
  for (const { file, imports } of modules) {
    const zone = zoneOf(file);
    if (zone === 'root' && file.includes('/')) {
      out.push({ file, line: 1, rule: RULES.knownZone.id, specifier: null, target: null, message: `${file} is outside the known folders (${ZONES.join(', ')}): move it, or give its folder a rule in test/boundaries/rules.ts` });
    }
    for (const ref of imports) {
      const base = { file, line: ref.line, specifier: ref.specifier };
      if (ref.specifier === null) {
        if (zone !== 'test' && zone !== 'root' && !COMPUTED_IMPORTS_ALLOWED.includes(file)) {
          out.push({ ...base, rule: RULES.literal.id, target: null, message: `a ${ref.kind} with a computed specifier: write the path as a literal, or list ${file} in COMPUTED_IMPORTS_ALLOWED with why` });
        }
        continue;
      }
      const browser = BROWSER_FOLDERS.some((f) => file.startsWith(f));
      if ((ref.specifier.startsWith('/') && !browser) || /^file:/i.test(ref.specifier)) {
        out.push({ ...base, rule: RULES.insideRepo.id, target: null, message: `absolute path ${ref.specifier}: import our files by a relative path` });
        continue;
      }
      if (!isOurs(ref.specifier)) continue; // an npm package, node: builtin, a URL of another scheme, or a server URL in browser code
      const target = resolveSpecifier(file, ref.specifier);
      if (target === '..' || target.startsWith('../')) {
        out.push({ ...base, rule: RULES.insideRepo.id, target, message: `${ref.specifier} leaves the repository` });
        continue;
      }
      const broken = ruleFor(file, target);
      if (broken) out.push({ ...base, rule: broken[0].id, target, message: broken[1] });
    }
  }
  return out;
}

/** One line per violation: `file:line [rule] message`. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.file}:${v.line} [${v.rule}] ${v.message}`).join('\n');
}
