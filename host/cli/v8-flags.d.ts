// Types of v8-flags.js (plain JavaScript: bin.js runs it before any TypeScript loader).
/** The V8 flags the fiberrig process runs with. */
export const V8_FLAGS: readonly string[];
/** Applies the process's V8 settings; call before the command's modules load. */
export function applyV8Flags(): void;
