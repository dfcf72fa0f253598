// Types of native-preloads.js (plain JavaScript: bin.js runs it before any TypeScript loader).
/** What `fiberrig ARGS` (the command line after `fiberrig`) must load natively before tsx. */
export function nativePreloads(args: readonly string[]): readonly string[];
