// The README's Rig example is documentation that must keep working: extract it and run it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('README: the Rig example', () => {
  it('runs against the simulator and prints a level per channel', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const m = /<!-- rig-example:start -->\n```ts\n([\s\S]*?)```\n<!-- rig-example:end -->/.exec(readme);
    assert.ok(m, 'README has the marked example');
    const dir = mkdtempSync(join(root, 'test', 'readme', '.tmp-'));
    try {
      const file = join(dir, 'example.ts');
      // the example's imports are relative to the repository root
      writeFileSync(file, m[1]!.replaceAll("from './", "from '../../../").replaceAll("import './", "import '../../../"));
      const { stdout } = await promisify(execFile)(process.execPath, ['--import=tsx', file], { cwd: root, timeout: 60_000 });
      const lines = stdout.trim().split('\n');
      assert.match(lines[0]!, /fiberrig-sim .*, 4 LEDs/);
      const levels = lines.filter((l) => /nm@det\d: /.test(l));
      assert.equal(levels.length, 6, stdout);
      for (const l of levels) assert.ok(Number(l.split(': ')[1]!.split(' ')[0]) > 0, l);
      assert.match(stdout, /gaps so far: 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
