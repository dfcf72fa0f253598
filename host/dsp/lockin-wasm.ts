// The lock-in's mixing stage (lockin-kernels.ts mixCic) run by the WebAssembly SIMD kernel
// lockin-mix.wat, assembled at `npm run gen` time into lockin-wasm-module.generated.ts.
// Outputs are bit-identical to mixCic's (the .wat header says why; test/host/dsp/lockin-wasm.test.ts).
//
// One instance per process, compiled synchronously on first use. Its memory holds, from byte 0:
// the CIC2 accumulators of the call (64 bytes), the closed segments' [I, Q] pairs (MAX_SEGMENTS
// pairs per detector, two detectors), the chunk's samples as doubles (copied per chunk, all detectors interleaved), then the
// carriers' interleaved sin/cos tables, copied once per CarrierReference (table mode) and kept
// until TABLE_BYTES_CAP bytes of them are resident, when all are dropped and copied again on use.
// A fallback-mode reference's chunk is copied after every prepare().

import { LOCKIN_MIX_WASM_BASE64 } from './lockin-wasm-module.generated.ts';
import type { SampleArray } from './lockin-kernels.ts';
import type { CarrierReference } from './reference.ts';

/** Largest number of segments one mix call can close (a chunk holds at most 511 segments, lockin.ts). */
const MAX_SEGMENTS = 512;
const OUT_BYTE = 64;
/** mix2's second detector's segments follow the first's */
const OUT_STRIDE_BYTES = 16 * MAX_SEGMENTS;
const SAMPLES_BYTE = OUT_BYTE + 2 * OUT_STRIDE_BYTES;
const PAGE_BYTES = 65536;
/** Resident table bytes above which all tables are dropped (then copied again on use). */
const TABLE_BYTES_CAP = 64 << 20;
let tableBytesCap = TABLE_BYTES_CAP;

/** The part of the WebAssembly JS API used here (the project's TypeScript lib, ES2023 without DOM, lacks it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

type MixFn = (
  samplesByte: number, strideBytes: number, tableByte: number, count: number,
  p0: number, r1: number, accByte: number, outByte: number,
) => number;
type Mix2Fn = (
  samplesByte: number, strideBytes: number, tableByte: number, count: number,
  p0: number, r1: number, accByte: number, outByte: number, outStrideBytes: number,
) => number;

/** Typed sample arrays the kernel takes (copied into its memory as doubles, as JS reads them). */
export type WasmSampleArray = Float64Array | Float32Array | Int32Array | Int16Array | Uint16Array;

export function isWasmSampleArray(samples: SampleArray): samples is WasmSampleArray {
  return ArrayBuffer.isView(samples);
}

export class LockinMixWasm {
  private readonly memory: WasmMemory;
  private readonly mixFn: MixFn;
  private readonly mix2Fn: Mix2Fn;
  private f64: Float64Array;
  private samplesBytes = 0;
  private tablesByte = SAMPLES_BYTE;
  private nextTableByte = SAMPLES_BYTE;
  private readonly tables = new Map<CarrierReference, number>();

  constructor(api: WasmApi, module: object) {
    const instance = new api.Instance(module, {});
    this.memory = instance.exports['memory'] as WasmMemory;
    this.mixFn = instance.exports['mix'] as MixFn;
    this.mix2Fn = instance.exports['mix2'] as Mix2Fn;
    this.f64 = new Float64Array(this.memory.buffer);
  }

  /** Copies `count` values of `samples` from `from` into the sample area as doubles; returns its byte address. */
  loadSamples(samples: WasmSampleArray, from: number, count: number): number {
    const bytes = 8 * count;
    if (bytes > this.samplesBytes) {
      // a larger sample area moves the tables: drop them
      this.samplesBytes = Math.ceil(bytes / PAGE_BYTES) * PAGE_BYTES;
      this.dropTables();
    }
    this.ensure(SAMPLES_BYTE + this.samplesBytes);
    const view = from === 0 && count === samples.length ? samples : samples.subarray(from, from + count);
    this.f64.set(view, SAMPLES_BYTE / 8);
    return SAMPLES_BYTE;
  }

  /** Byte address of `ref`'s interleaved table entry 0, copying the table in if it is not resident. */
  table(ref: CarrierReference, entries: number): number {
    let at = this.tables.get(ref);
    if (at === undefined) {
      const bytes = ref.sinCos.byteLength;
      if (this.nextTableByte + bytes - this.tablesByte > tableBytesCap) this.dropTables();
      at = this.nextTableByte;
      this.nextTableByte += bytes;
      this.ensure(this.nextTableByte);
      this.tables.set(ref, at);
      if (ref.periodSamples !== null) this.f64.set(ref.sinCos, at / 8);
    }
    // a fallback reference's entries change at every prepare()
    if (ref.periodSamples === null) this.f64.set(ref.sinCos.subarray(0, 2 * entries), at / 8);
    return at;
  }

  /**
   * mixCic (lockin-kernels.ts) on samples at byte `samplesByte` (step `strideBytes`) and the table entries
   * from byte `tableByte`, same accumulators and outputs.
   */
  mix(
    samplesByte: number, strideBytes: number, tableByte: number, count: number, p0: number, r1: number,
    acc: Float64Array, a4: number, outI: Float64Array, outQ: Float64Array,
  ): number {
    this.loadAcc(0, acc, a4);
    const m = this.mixFn(samplesByte, strideBytes, tableByte, count, p0, r1, 0, OUT_BYTE);
    this.storeAcc(0, acc, a4);
    this.segments(0, m, outI, outQ);
    return m;
  }

  /**
   * mix for two detectors at once, the second's samples 8 bytes after the first's (accumulators at a4
   * and b4 of `acc`); read each one's closed segments with segments(0 or 1, ...). Returns how many closed.
   */
  mix2(
    samplesByte: number, strideBytes: number, tableByte: number, count: number, p0: number, r1: number,
    acc: Float64Array, a4: number, b4: number,
  ): number {
    this.loadAcc(0, acc, a4);
    this.loadAcc(4, acc, b4);
    const m = this.mix2Fn(samplesByte, strideBytes, tableByte, count, p0, r1, 0, OUT_BYTE, OUT_STRIDE_BYTES);
    this.storeAcc(0, acc, a4);
    this.storeAcc(4, acc, b4);
    return m;
  }

  /** One detector's accumulators into the kernel's slots at `slot`: it keeps [aI, aQ, bI, bQ], lockin.ts [aI, bI, aQ, bQ]. */
  private loadAcc(slot: number, acc: Float64Array, a4: number): void {
    const f = this.f64;
    f[slot] = acc[a4]!;
    f[slot + 1] = acc[a4 + 2]!;
    f[slot + 2] = acc[a4 + 1]!;
    f[slot + 3] = acc[a4 + 3]!;
  }

  /** The kernel's accumulators at `slot` back into lockin.ts's order. */
  private storeAcc(slot: number, acc: Float64Array, a4: number): void {
    const f = this.f64;
    acc[a4] = f[slot]!;
    acc[a4 + 2] = f[slot + 1]!;
    acc[a4 + 1] = f[slot + 2]!;
    acc[a4 + 3] = f[slot + 3]!;
  }

  /** Copies the last call's `m` closed segments of detector `which` (0, or 1 after mix2) to outI/outQ. */
  segments(which: 0 | 1, m: number, outI: Float64Array, outQ: Float64Array): void {
    const f = this.f64;
    for (let i = 0, o = (OUT_BYTE + which * OUT_STRIDE_BYTES) / 8; i < m; i++, o += 2) {
      outI[i] = f[o]!;
      outQ[i] = f[o + 1]!;
    }
  }

  private dropTables(): void {
    this.tables.clear();
    this.tablesByte = SAMPLES_BYTE + this.samplesBytes;
    this.nextTableByte = this.tablesByte;
  }

  /** Grows the memory to hold `bytes`; refreshes the view (growth detaches the old buffer). */
  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
      this.f64 = new Float64Array(this.memory.buffer);
    }
  }
}

let enabled = true;
/** undefined: not tried yet; null: WebAssembly SIMD unavailable here (the JS kernel runs). */
let shared: LockinMixWasm | null | undefined;

/** Turns the WebAssembly kernel on or off for every LockinDemodulator of the process (tests compare both). */
export function setLockinWasm(on: boolean): void {
  enabled = on;
}

/** Sets the resident table bytes above which tables are dropped (default 64 MB; tests lower it to force re-copies). */
export function setLockinWasmTableCap(bytes: number = TABLE_BYTES_CAP): void {
  tableBytesCap = bytes;
}

/** The process's kernel instance, or null when switched off or unavailable. */
export function lockinMixWasm(): LockinMixWasm | null {
  if (!enabled) return null;
  if (shared === undefined) {
    try {
      if (wasmApi === undefined) throw new Error('no WebAssembly');
      shared = new LockinMixWasm(wasmApi, new wasmApi.Module(Uint8Array.from(atob(LOCKIN_MIX_WASM_BASE64), (ch) => ch.charCodeAt(0))));
    } catch {
      shared = null;
    }
  }
  return shared;
}
