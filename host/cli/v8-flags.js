// V8 settings of the fiberrig process, applied by bin.js before anything else
// runs (and by the benchmarks, so that they measure what the command runs).
// Plain JavaScript, like bin.js: it runs before any TypeScript loader.
//
// Allocation-site pretenuring off. A recording makes a few kinds of
// short-lived objects per block (decoded messages, typed-array views, signal
// blocks) at a handful of allocation sites. When a GC happens to find most of
// one site's objects still alive (a block waiting for the raw-log worker, say),
// V8 marks the site "tenured" and from then on allocates its objects straight
// into old space, where only full mark-compacts free them: on a 3 h simulated
// recording at max speed that was 140-161 mark-compacts instead of 5-7, in
// three runs of four, and 29-33 CPU s instead of 19-27 (issue 20).
// Young-generation scavenges free such objects for almost nothing.
import { setFlagsFromString } from 'node:v8';

/** Applies the process's V8 settings; call before the command's modules load. */
export function applyV8Flags() {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
