// V8 settings of the fiberrig process, applied by bin.js before anything else
// runs (and by the benchmarks, so that they measure what the command runs).
// Plain JavaScript, like bin.js: it runs before any TypeScript loader.
import { setFlagsFromString } from 'node:v8';

// Allocation-site pretenuring off. A recording makes a few kinds of
// short-lived objects per block (decoded messages, typed-array views, signal
// blocks) at a handful of allocation sites. When a GC happens to find most of
// one site's objects still alive (a block waiting for the raw-log worker, say),
// V8 marks the site "tenured" and from then on allocates its objects straight
// into old space, where only full mark-compacts free them: on a 3 h simulated
// recording at max speed that was 140-161 mark-compacts instead of 5-7, in
// three runs of four, and 29-33 CPU s instead of 19-27 (issue 20).
// Young-generation scavenges free such objects for almost nothing.
//
// Old generation limit at 4x what a full collection leaves (--heap-growing-percent=300). V8 picks
// the factor from how cheap its collections were, and ours are cheap (a ~25 MB heap; the data lives
// in ArrayBuffers): after a full collection late in a day-long recording it used its smallest factor,
// 1.1, marking restarted at once after each collection, and the process ran back-to-back full
// collections to the end: ~200-500 of them on a 24 h simulated night, 10-20 CPU s on V8's marking
// threads, against 5 and 3 CPU s with this setting.
export const V8_FLAGS = ['--no-allocation-site-pretenuring', '--heap-growing-percent=300'];

/** Applies the process's V8 settings; call before the command's modules load. */
export function applyV8Flags() {
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}
