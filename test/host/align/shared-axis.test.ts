// Do recordings share one time axis (their alignment.json files)? And the policy commands apply to
// a set that is partly aligned (fiberrig cohort --mixed-alignment): refuse, warn, ignore.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkMixedAlignment, sharedAxisOf } from '../../../host/align/shared-axis.ts';
import { tempDir } from '../record/helpers.ts';

describe('host/align: do recordings share one time axis', () => {
  let tmp: { dir: string; cleanup: () => void };
  const rec = (name: string, alignedAt?: string, driver = 'drv'): string => {
    const dir = join(tmp.dir, name);
    mkdirSync(dir, { recursive: true });
    if (alignedAt) {
      writeFileSync(join(dir, 'alignment.json'), JSON.stringify({
        format: 'fiberrig-alignment', formatVersion: 1, timeAxis: 'driver', name, role: name === driver ? 'driver' : 'receiver',
        group: { driver, driverRateHz: 1000, periodSamples: 500, recordings: [driver, 'm1', 'm2'] }, offsetS: 0, scale: 1, knots: [], alignedAt,
      }));
    }
    return dir;
  };
  before(() => {
    tmp = tempDir('fiberrig-shared-axis-');
  });
  after(() => tmp.cleanup());

  it('one alignment run: shared, with its driver; nothing to warn about under any policy', () => {
    const axis = sharedAxisOf([rec('a1', '2026-01-01T00:00:00.000Z'), rec('a2', '2026-01-01T00:00:00.000Z')]);
    assert.equal(axis.shared, true);
    assert.equal(axis.driver, 'drv');
    assert.match(axis.text, /share one time axis: drv's/);
    assert.equal(checkMixedAlignment('--group x', axis, 'refuse'), null);
  });

  it('some aligned, one not: not shared; refuse throws E_ALIGN_MIXED naming the unaligned one, warn returns it, ignore is silent', () => {
    const axis = sharedAxisOf([rec('b1', '2026-01-01T00:00:00.000Z'), rec('b2')]);
    assert.equal(axis.shared, false);
    assert.deepEqual(axis.unaligned.map((d) => d.split('/').at(-1)), ['b2']);
    assert.throws(() => checkMixedAlignment('--group x', axis, 'refuse'), (e: Error & { code: string }) => {
      assert.equal(e.code, 'E_ALIGN_MIXED');
      assert.match(e.message, /--group x: b2 is not aligned/);
      return true;
    });
    assert.match(checkMixedAlignment('--group x', axis, 'warn')!, /b2 is not aligned .*not on one axis/);
    assert.equal(checkMixedAlignment('--group x', axis, 'ignore'), null);
  });

  it('two alignment runs are two axes (mixed); no alignment at all is not mixed', () => {
    const two = sharedAxisOf([rec('c1', '2026-01-01T00:00:00.000Z'), rec('c2', '2026-01-02T00:00:00.000Z', 'other')]);
    assert.equal(two.shared, false);
    assert.equal(two.groups.length, 2);
    assert.match(checkMixedAlignment('g', two, 'warn')!, /2 different alignments/);
    const none = sharedAxisOf([rec('d1'), rec('d2')]);
    assert.equal(none.shared, false);
    assert.equal(checkMixedAlignment('g', none, 'refuse'), null);
  });
});
