// CSV numbers written as ASCII bytes straight into a file buffer: the same characters as
// Number.prototype.toPrecision(9) and toFixed(6), without a string per value (their general
// decimal conversion, and the row strings around them, dominated writing signals.csv). Each
// scales the value by an exact power of ten, rounds to an integer and writes its digits with the
// decimal point in place. Where that one rounding of the scaled double could differ from rounding
// the exact binary value (within a few ulps of a half: a tie or near-tie), or where the text takes
// another form (exponent, huge, tiny, zero, NaN), the built-in's text is written instead.
// test/host/record/number-text.test.ts compares both with the built-ins on over a million values,
// ties and near-ties included.

/** 10^k, exact in doubles for k <= 22. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Writes `text` (ASCII) into out from `at`; returns the end. */
export function putAscii(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * ASCII `text` (at most 4 * count characters: the caller makes sure) packed 4 bytes per word,
 * little-endian, into `words` from `from`, the rest of `count` words zero; returns the text's length. Written back by 4-byte little-endian
 * DataView stores (one per word instead of one per byte; the bytes past the text are overwritten next).
 */
export function packAscii(text: string, words: Uint32Array, from: number, count: number): number {
  words.fill(0, from, from + count);
  for (let i = 0; i < text.length; i++) words[from + (i >> 2)]! |= text.charCodeAt(i) << ((i & 3) * 8);
  return text.length;
}

/**
 * Whether `scaled` (within `guard` of value * 10^k) rounds to the integer the exact product
 * rounds to: its fraction is not within `guard` of one half.
 */
function roundsSafely(scaled: number, guard: number): boolean {
  const frac = scaled - Math.floor(scaled);
  return Math.abs(frac - 0.5) > guard;
}

/**
 * The non-negative integer `n` (< 2^53) with a decimal point before its last `decimals` digits
 * (zero-padded to at least one digit before the point), as ASCII into out from `at`; returns the end.
 */
function putScaled(n: number, decimals: number, out: Uint8Array, at: number): number {
  let digits = 1;
  while (digits < 22 && n >= POW10[digits]!) digits++;
  if (digits <= decimals) digits = decimals + 1;
  const end = at + digits + (decimals > 0 ? 1 : 0);
  let w = end;
  if (n < 2 ** 31) {
    // int32 arithmetic: a division by a constant the compiler turns into a multiply
    let m = n | 0;
    for (let d = 0; d < digits; d++) {
      if (d === decimals && decimals > 0) out[--w] = 46; // '.'
      const q = (m / 10) | 0;
      out[--w] = 48 + m - q * 10;
      m = q;
    }
    return end;
  }
  let m = n;
  for (let d = 0; d < digits; d++) {
    if (d === decimals && decimals > 0) out[--w] = 46; // '.'
    const q = Math.floor(m / 10);
    out[--w] = 48 + (m - q * 10);
    m = q;
  }
  return end;
}

/** "00".."99": the ASCII bytes of i's two digits at [2i, 2i + 1]. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, j) => 48 + (j % 2 === 0 ? Math.floor(j / 20) : (j >> 1) % 10));

/**
 * The 9-digit integer `n` (1e8 <= n < 1e9) with a decimal point after its first `intDigits` (1..9)
 * digits (none after all 9), as ASCII into out from `at`; returns the end. Two digits per step into
 * out[at + 1 .. at + 9], then the integer digits one place left and the point after them; may write
 * the byte at the end.
 */
function putNineDigits(n: number, intDigits: number, out: Uint8Array, at: number): number {
  let m = n | 0;
  let w = at + 9;
  for (let i = 0; i < 4; i++) {
    const q = (m / 100) | 0;
    const r = (m - q * 100) * 2;
    out[w--] = DIGIT_PAIRS[r + 1]!;
    out[w--] = DIGIT_PAIRS[r]!;
    m = q;
  }
  out[w] = 48 + m;
  for (let j = 0; j < intDigits; j++) out[at + j] = out[at + 1 + j]!;
  if (intDigits === 9) return at + 9;
  out[at + intDigits] = 46; // '.'
  return at + 10;
}

/** `v.toPrecision(9)`, or "NaN", as ASCII into out from `at` (room for 24 bytes, of which it may write one past the end); returns the end. */
export function putPrecision9(v: number, out: Uint8Array, at: number): number {
  const a = v < 0 ? -v : v;
  // fixed notation with 9 significant digits for 1 <= |v| < 1e9: decimals = 8 - floor(log10 |v|)
  if (!(a >= 1 && a < 1e9)) return putAscii(Number.isNaN(v) ? 'NaN' : v.toPrecision(9), out, at);
  let e = 0;
  while (e < 8 && a >= POW10[e + 1]!) e++;
  const decimals = 8 - e;
  const scaled = a * POW10[decimals]!; // in [1e8, 1e9): one rounding, off the exact product by at most 2^-24
  const n = Math.round(scaled);
  // a near-tie, or rounded up to 1e9 (then one digit fewer after the point): the built-in decides
  if (!roundsSafely(scaled, 1e-6) || n >= 1e9) return putAscii(v.toPrecision(9), out, at);
  if (v < 0) out[at++] = 45; // '-'
  return putNineDigits(n, e + 1, out, at);
}

/** `v.toFixed(6)`, or "NaN", as ASCII into out from `at` (room for 24 bytes); returns the end. */
export function putFixed6(v: number, out: Uint8Array, at: number): number {
  const a = v < 0 ? -v : v;
  // |v| * 1e6 below 2^52 (beyond, the guard below would refuse every value anyway)
  if (!(a < 4e9)) return putAscii(Number.isNaN(v) ? 'NaN' : v.toFixed(6), out, at);
  const scaled = a * 1e6; // one rounding: off the exact product by at most half an ulp of `scaled`
  // below 2^31 that is under 2^-23; past it (times over ~36 minutes) guard by a few ulps (1.5e-5 at 24 h)
  const guard = scaled < 2 ** 31 ? 1e-6 : 4 * 2 ** (Math.floor(Math.log2(scaled)) - 52) + 1e-9;
  if (!roundsSafely(scaled, guard)) return putAscii(v.toFixed(6), out, at);
  // toFixed keeps the sign of a negative value even when it rounds to zero ("-0.000000"); -0 has none
  if (v < 0) out[at++] = 45; // '-'
  return putScaled(Math.round(scaled), 6, out, at);
}
