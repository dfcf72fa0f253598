import assert from 'node:assert/strict';
import { solveLeastNorm, solveLinear } from '../../../host/dsp/linear.ts';

describe('dsp/linear', () => {
  it('solves a 3x3 system within 1e-12 and reports a singular one as null', () => {
    const a = [4, 1, 2, 1, 3, 0, 2, 0, 5];
    const x = [1, -2, 0.5];
    const b = [0, 1, 2].map((r) => a[r * 3]! * x[0]! + a[r * 3 + 1]! * x[1]! + a[r * 3 + 2]! * x[2]!);
    const got = solveLinear(a, b, 3)!;
    for (const [i, v] of got.entries()) assert.ok(Math.abs(v - x[i]!) < 1e-12, `x${i} = ${v}`);
    assert.equal(solveLinear([1, 2, 2, 4], [1, 2], 2), null);
  });

  it('least-norm: a regressor with no support (zero row and column) gets 0, the others their value', () => {
    // normal equations of y = 2·x0 + 0·x1 + 3·x2 where x1 never varies from 0
    const got = solveLeastNorm([2, 0, 0, 0, 0, 0, 0, 0, 1], [4, 0, 3], 3);
    assert.ok(Math.abs(got[0]! - 2) < 1e-12 && got[1] === 0 && Math.abs(got[2]! - 3) < 1e-12, Array.from(got).join(', '));
  });
});
