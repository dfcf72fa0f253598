;; The lock-in's mixing + CIC2 stage (lockin-kernels.ts mixCic) in WebAssembly SIMD.
;; Assembled by `npm run gen` (host/dsp/lockin-wasm-gen.ts) into lockin-wasm-module.generated.ts.
;;
;; Per sample, the JS does xa = x wA, xb = x wB, aI += xa s, bI += xb s, aQ += xa c, bQ += xb c.
;; Here [s, c] is one v128 load from the interleaved table and the pairs [aI, aQ], [bI, bQ]
;; are f64x2 lanes: accA += splat(xa) * [s, c], accB += splat(xb) * [s, c]. Each lane does the
;; same IEEE operations (a rounded product, then a rounded sum; no fused multiply-add) in the
;; same order as the JS, so results are bit-identical.
(module
  (memory (export "memory") 1)
  ;; mix(samples, strideBytes, table, count, p0, r1, acc, out) -> segments closed
  ;;   samples: byte address of the first sample (f64), the next one strideBytes further
  ;;   table:   byte address of the first [sin, cos] entry (f64 pairs, no wrap)
  ;;   acc:     byte address of [aI, aQ, bI, bQ] (read, then written back)
  ;;   out:     byte address where closed segments' [I, Q] pairs go (f64 pairs)
  (func (export "mix")
    (param $sp i32) (param $stride i32) (param $tp i32) (param $count i32)
    (param $p i32) (param $r1 i32) (param $acc i32) (param $out i32)
    (result i32)
    (local $accA v128) (local $accB v128) (local $sc v128)
    (local $x f64) (local $wA f64) (local $wB f64)
    (local $end i32) (local $stop i32) (local $m i32) (local $seg i32)
    (local.set $accA (v128.load (local.get $acc)))
    (local.set $accB (v128.load offset=16 (local.get $acc)))
    (local.set $end (i32.add (local.get $tp) (i32.shl (local.get $count) (i32.const 4))))
    (block $done
      (br_if $done (i32.ge_u (local.get $tp) (local.get $end)))
      (loop $segments
        ;; the rest of this CIC segment (positions p .. r1 - 1), or of the chunk
        (local.set $seg (i32.sub (local.get $r1) (local.get $p)))
        (local.set $stop (i32.add (local.get $tp) (i32.shl (local.get $seg) (i32.const 4))))
        (if (i32.gt_u (local.get $stop) (local.get $end))
          (then (local.set $stop (local.get $end))))
        (local.set $wB (f64.convert_i32_s (local.get $p)))
        (local.set $wA (f64.sub (f64.convert_i32_s (local.get $r1)) (local.get $wB)))
        (local.set $p (i32.add (local.get $p)
          (i32.shr_u (i32.sub (local.get $stop) (local.get $tp)) (i32.const 4))))
        (loop $samples
          (local.set $x (f64.load (local.get $sp)))
          (local.set $sc (v128.load (local.get $tp)))
          (local.set $accA (f64x2.add (local.get $accA)
            (f64x2.mul (f64x2.splat (f64.mul (local.get $x) (local.get $wA))) (local.get $sc))))
          (local.set $accB (f64x2.add (local.get $accB)
            (f64x2.mul (f64x2.splat (f64.mul (local.get $x) (local.get $wB))) (local.get $sc))))
          (local.set $wA (f64.sub (local.get $wA) (f64.const 1)))
          (local.set $wB (f64.add (local.get $wB) (f64.const 1)))
          (local.set $sp (i32.add (local.get $sp) (local.get $stride)))
          (local.set $tp (i32.add (local.get $tp) (i32.const 16)))
          (br_if $samples (i32.lt_u (local.get $tp) (local.get $stop))))
        (if (i32.eq (local.get $p) (local.get $r1))
          (then
            (v128.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 4))) (local.get $accA))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (local.set $accA (local.get $accB))
            (local.set $accB (v128.const f64x2 0 0))
            (local.set $p (i32.const 0))))
        (br_if $segments (i32.lt_u (local.get $tp) (local.get $end)))))
    (v128.store (local.get $acc) (local.get $accA))
    (v128.store offset=16 (local.get $acc) (local.get $accB))
    (local.get $m))

  ;; mix2: mix for two detectors whose samples are adjacent (the second 8 bytes after the first), sharing
  ;; the table loads: acc holds [aI, aQ, bI, bQ] of the first, then of the second; the first's closed
  ;; segments go to out, the second's to out + outStride. Each detector's operations are mix's.
  (func (export "mix2")
    (param $sp i32) (param $stride i32) (param $tp i32) (param $count i32)
    (param $p i32) (param $r1 i32) (param $acc i32) (param $out i32) (param $outStride i32)
    (result i32)
    (local $accA v128) (local $accB v128) (local $accC v128) (local $accD v128) (local $sc v128)
    (local $x f64) (local $y f64) (local $wA f64) (local $wB f64)
    (local $end i32) (local $stop i32) (local $m i32) (local $seg i32) (local $o i32)
    (local.set $accA (v128.load (local.get $acc)))
    (local.set $accB (v128.load offset=16 (local.get $acc)))
    (local.set $accC (v128.load offset=32 (local.get $acc)))
    (local.set $accD (v128.load offset=48 (local.get $acc)))
    (local.set $end (i32.add (local.get $tp) (i32.shl (local.get $count) (i32.const 4))))
    (block $done
      (br_if $done (i32.ge_u (local.get $tp) (local.get $end)))
      (loop $segments
        (local.set $seg (i32.sub (local.get $r1) (local.get $p)))
        (local.set $stop (i32.add (local.get $tp) (i32.shl (local.get $seg) (i32.const 4))))
        (if (i32.gt_u (local.get $stop) (local.get $end))
          (then (local.set $stop (local.get $end))))
        (local.set $wB (f64.convert_i32_s (local.get $p)))
        (local.set $wA (f64.sub (f64.convert_i32_s (local.get $r1)) (local.get $wB)))
        (local.set $p (i32.add (local.get $p)
          (i32.shr_u (i32.sub (local.get $stop) (local.get $tp)) (i32.const 4))))
        (loop $samples
          (local.set $x (f64.load (local.get $sp)))
          (local.set $y (f64.load offset=8 (local.get $sp)))
          (local.set $sc (v128.load (local.get $tp)))
          (local.set $accA (f64x2.add (local.get $accA)
            (f64x2.mul (f64x2.splat (f64.mul (local.get $x) (local.get $wA))) (local.get $sc))))
          (local.set $accB (f64x2.add (local.get $accB)
            (f64x2.mul (f64x2.splat (f64.mul (local.get $x) (local.get $wB))) (local.get $sc))))
          (local.set $accC (f64x2.add (local.get $accC)
            (f64x2.mul (f64x2.splat (f64.mul (local.get $y) (local.get $wA))) (local.get $sc))))
          (local.set $accD (f64x2.add (local.get $accD)
            (f64x2.mul (f64x2.splat (f64.mul (local.get $y) (local.get $wB))) (local.get $sc))))
          (local.set $wA (f64.sub (local.get $wA) (f64.const 1)))
          (local.set $wB (f64.add (local.get $wB) (f64.const 1)))
          (local.set $sp (i32.add (local.get $sp) (local.get $stride)))
          (local.set $tp (i32.add (local.get $tp) (i32.const 16)))
          (br_if $samples (i32.lt_u (local.get $tp) (local.get $stop))))
        (if (i32.eq (local.get $p) (local.get $r1))
          (then
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 4))))
            (v128.store (local.get $o) (local.get $accA))
            (v128.store (i32.add (local.get $o) (local.get $outStride)) (local.get $accC))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (local.set $accA (local.get $accB))
            (local.set $accB (v128.const f64x2 0 0))
            (local.set $accC (local.get $accD))
            (local.set $accD (v128.const f64x2 0 0))
            (local.set $p (i32.const 0))))
        (br_if $segments (i32.lt_u (local.get $tp) (local.get $end)))))
    (v128.store (local.get $acc) (local.get $accA))
    (v128.store offset=16 (local.get $acc) (local.get $accB))
    (v128.store offset=32 (local.get $acc) (local.get $accC))
    (v128.store offset=48 (local.get $acc) (local.get $accD))
    (local.get $m))
)
