// A fresh project that installs the packed fiberrig tarball OFFLINE, from the npm cache: npm
// cannot resolve version ranges without the registry's package documents (the cache holds the
// tarballs `npm ci` fetched, not always those documents), so the project gets a lockfile made
// from ours: the entries fiberrig's dependencies (and the test tools asked for) reach, with
// their resolved tarballs and integrity. `npm ci --offline` then installs exactly those.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  [key: string]: unknown;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/** The lock entry path `name` resolves to from the package at `from` (Node's lookup: nearest node_modules up the tree). */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return null;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

/** Every lock entry reachable from `roots` (names resolved from the project root), closed over their dependencies. */
export function lockClosure(lock: Lockfile, roots: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string, optional: boolean): void => {
    const path = resolveFrom(lock.packages, from, name);
    if (!path) {
      if (optional) return;
      throw new Error(`the lockfile has no ${name} for ${from || 'the root'}`);
    }
    if (out[path]) return;
    const { dev: _dev, devOptional: _devOptional, ...entry } = lock.packages[path]!;
    out[path] = entry;
    for (const d of Object.keys(entry.dependencies ?? {})) visit(path, d, false);
    for (const d of Object.keys(entry.optionalDependencies ?? {})) visit(path, d, true);
    for (const d of Object.keys(entry.peerDependencies ?? {})) visit(path, d, Boolean(entry.peerDependenciesMeta?.[d]?.optional));
  };
  for (const r of roots) visit('', r, false);
  return out;
}

/**
 * Writes package.json and package-lock.json of a project in `dir` that depends on the tarball
 * (a sibling path) and on `tools` (names from our lockfile, e.g. mocha), at our lockfile's versions.
 */
export function writeConsumerProject(dir: string, repoRoot: string, tarball: string, tools: readonly string[]): void {
  const ours = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile;
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; bin?: Record<string, string>; license?: string; engines?: Record<string, string> };
  const spec = `file:${tarball}`;
  const toolVersions = Object.fromEntries(tools.map((t) => [t, ours.packages[`node_modules/${t}`]?.version ?? '*']));
  const integrity = `sha512-${createHash('sha512').update(readFileSync(join(dir, tarball))).digest('base64')}`;
  const packages: Record<string, LockEntry> = {
    '': { name: basename(dir), dependencies: { [pkg.name]: spec, ...toolVersions } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version, resolved: spec, integrity, dependencies: pkg.dependencies,
      ...(pkg.bin ? { bin: pkg.bin } : {}), ...(pkg.license ? { license: pkg.license } : {}), ...(pkg.engines ? { engines: pkg.engines } : {}),
    },
    ...lockClosure(ours, [...Object.keys(pkg.dependencies), ...tools]),
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: basename(dir), private: true, type: 'module', dependencies: packages['']!.dependencies }, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify({ name: basename(dir), lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}
