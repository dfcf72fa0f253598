// Small dense linear systems (normal equations of least-squares fits), solved by ml-matrix.
// Matrices are row-major n×n in a flat array; nothing here keeps state.
import { LuDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';

function square(a: ArrayLike<number>, n: number): Matrix {
  const m = new Matrix(n, n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) m.set(r, c, a[r * n + c]!);
  return m;
}

/** x with A x = b (LU with partial pivoting); null when A is singular (constant or collinear regressors). */
export function solveLinear(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array | null {
  const lu = new LuDecomposition(square(a, n));
  if (lu.isSingular()) return null;
  return Float64Array.from(lu.solve(Matrix.columnVector(Array.from(b))).getColumn(0));
}

/**
 * The minimum-norm least-squares x of A x = b (SVD pseudo-inverse): where A is singular the
 * unsupported directions get 0 (a regressor with no samples, a polynomial order the data cannot carry).
 */
export function solveLeastNorm(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const svd = new SingularValueDecomposition(square(a, n), { autoTranspose: true });
  return Float64Array.from(svd.solve(Matrix.columnVector(Array.from(b))).getColumn(0));
}
