// The second, independent check of an NWB file: hdmf's own validator
// (Debian's python3-hdmf) over the namespaces cached in the file, run by
// nwb-hdmf-validate.py. Missing hdmf: pending with the reason, a loud failure
// under CI=true (.ci/run installs python3-hdmf).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../../support/required-tool.ts';

const SCRIPT = fileURLToPath(new URL('./nwb-hdmf-validate.py', import.meta.url));
/** Debian's python3-hdmf installs for the system interpreter; a PATH python3 may be another one. */
const PYTHONS = ['python3', '/usr/bin/python3'];

let found: string | null | undefined;
/** The first python that imports hdmf and h5py, or null. */
export function pythonWithHdmf(): string | null {
  if (found === undefined) {
    found = PYTHONS.find((py) => spawnSync(py, ['-c', 'import hdmf, h5py'], { stdio: 'ignore' }).status === 0) ?? null;
  }
  return found;
}

export interface HdmfResult {
  namespaces: Record<string, string>;
  errors: string[];
}

export function hdmfValidate(path: string): HdmfResult {
  const py = pythonWithHdmf();
  if (!py) throw new Error('python3-hdmf is not installed');
  const r = spawnSync(py, [SCRIPT, path], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`nwb-hdmf-validate.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as HdmfResult;
}

/** In a mocha test: pending with the reason when hdmf is missing, a failure under CI=true. */
export function needHdmf(ctx: Mocha.Context): void {
  requireTool(ctx, pythonWithHdmf() ? undefined : 'python3-hdmf is not installed', 'add "python3-hdmf" to the Debian packages in .ci/run');
}

const SHIPPED_YAML = `
import json, os, sys
import hdmf.common
from ruamel.yaml import YAML
root = os.path.join(os.path.dirname(hdmf.common.__file__), "hdmf-common-schema", "common")
yaml = YAML(typ="safe")
with open(os.path.join(root, "namespace.yaml")) as f:
    ns = [n for n in yaml.load(f)["namespaces"] if n["name"] == "hdmf-common"][0]
sources = {}
for s in ns["schema"]:
    if "source" in s:
        with open(os.path.join(root, s["source"])) as f:
            sources[s["source"].rsplit(".", 1)[0]] = yaml.load(f)
print(json.dumps({"version": ns["version"], "sources": sources}))
`;

/** The hdmf-common schema YAML that python3-hdmf ships (its own version), as JSON. */
export function shippedHdmfCommon(): { version: string; sources: Record<string, { groups?: unknown[]; datasets?: unknown[] }> } {
  const py = pythonWithHdmf();
  if (!py) throw new Error('python3-hdmf is not installed');
  const r = spawnSync(py, ['-c', SHIPPED_YAML], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reading hdmf's schema failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof shippedHdmfCommon>;
}
