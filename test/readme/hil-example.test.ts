// The README's "Write your own HIL test" example is documentation that must keep working:
// extract it, point its `fiberrig/…` imports at this repository's entry points, and run it with
// mocha as a user would (test/package/ runs it again from the packed tarball, on sim and native).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hilExampleInRepo, readmeBlock, ROOT } from './blocks.ts';

describe('README: write your own HIL test', () => {
  it('imports only the package entry points', () => {
    const imports = [...readmeBlock('hil-example').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    assert.ok(imports.includes('fiberrig') && imports.includes('fiberrig/testing'), imports.join(', '));
    for (const i of imports) assert.match(i, /^(fiberrig(\/(sim|testing|dsp))?|rxjs|node:[a-z/]+)$/, `${i} is not a public entry point`);
  });

  it('runs with mocha on the simulator and passes', async () => {
    const dir = mkdtempSync(join(ROOT, 'test', 'readme', '.tmp-'));
    try {
      const file = join(dir, 'hil.test.ts');
      writeFileSync(file, hilExampleInRepo(3));
      const { FIBERRIG_TARGET: _ignored, ...env } = process.env;
      const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'mocha'), ['--no-package', '--node-option', 'import=tsx', '--reporter', 'json', file], { cwd: ROOT, env, timeout: 120_000 });
      const report = JSON.parse(stdout) as { stats: { passes: number; failures: number; pending: number } };
      assert.deepEqual([report.stats.passes, report.stats.failures, report.stats.pending], [1, 0, 0], stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
