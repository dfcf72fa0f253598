// useTarget() in a user's mocha run: a target that cannot start for want of a tool or a build
// makes the suite pending locally and fails it under CI=true; the target it opened is closed
// after the suite (a child mocha, so the hooks are real).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SUITE = (target: string) => `
import assert from 'node:assert/strict';
import { SimBinding } from '../../../../host/cli/devices.ts';
import { useTarget } from '../../../../host/testing/index.ts';
let url = '';
describe('suite', () => {
  const ref = useTarget(${JSON.stringify(target)}, { firmwareBuildDir: '/nonexistent-fiberrig-build', seed: 41 });
  it('runs on the target', () => {
    url = ref.target.url;
    assert.ok(SimBinding.ports.lookup(url), 'the sim target powered up its device');
  });
});
after(() => {
  if (url) assert.equal(SimBinding.ports.lookup(url), undefined, 'closed after the suite: its device released');
});
`;

interface Stats {
  passes: number;
  failures: number;
  pending: number;
}

async function runSuite(target: string, ci: boolean): Promise<{ stats: Stats; failures: Array<{ err: { message?: string } }> }> {
  const dir = mkdtempSync(join(ROOT, 'test', 'host', 'testing', '.tmp-'));
  try {
    const file = join(dir, 'suite.test.ts');
    writeFileSync(file, SUITE(target));
    const { CI: _ci, FIBERRIG_TARGET: _t, ...env } = process.env;
    const result = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'mocha'), ['--no-package', '--node-option', 'import=tsx', '--reporter', 'json', file], {
      cwd: ROOT, env: ci ? { ...env, CI: 'true' } : env, timeout: 60_000,
    }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    return JSON.parse(result.stdout) as { stats: Stats; failures: Array<{ err: { message?: string } }> };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('fiberrig/testing: useTarget in a mocha run', () => {
  it('a missing firmware build makes the suite pending locally', async () => {
    const r = await runSuite('native', false);
    assert.deepEqual([r.stats.passes, r.stats.failures, r.stats.pending], [0, 0, 1]);
  });

  it('and fails it, naming what to build, under CI=true', async () => {
    const r = await runSuite('native', true);
    assert.equal(r.stats.failures, 1);
    assert.equal(r.stats.passes, 0);
    assert.match(r.failures[0]!.err.message ?? '', /fiberrig-fw-host is not built/);
  });

  it('opens the target before the suite and closes it after', async () => {
    const r = await runSuite('sim', false);
    assert.deepEqual([r.stats.passes, r.stats.failures, r.stats.pending], [1, 0, 0]);
  });
});
