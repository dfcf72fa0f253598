// Packages a command loads that node must load itself, before tsx is
// registered. bin.js imports them first, on both of its paths (main compiled
// to JS, which registers tsx when it loads the command's module; or main.ts
// through tsx when it cannot be compiled, e.g. an install without typescript).
//
// Why: tsx rewrites the dynamic `import()`s of every module it loads and
// attaches a source map; h5wasm's WebAssembly glue (hdf5_util.js, 4 MB on one
// line) has one, and loading it through tsx costs about 600 MB of RSS, which
// stays the NWB export's peak whatever the recording's length (issue 20;
// host/export/README.md "NWB: memory"). A module node has loaded is not loaded
// again: the export's own `import('h5wasm/node')` later gets node's copy.
// Plain JavaScript, like bin.js: it runs before any TypeScript loader.

/** The value of `--name VALUE` or `--name=VALUE` in `args`, if given. */
function optionValue(args, name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

/** What `fiberrig ARGS` (the command line after `fiberrig`) must load natively before tsx. */
export function nativePreloads(args) {
  const command = args.find((a) => !a.startsWith('-'));
  if (command === 'export' && optionValue(args, '--format') === 'nwb') return ['h5wasm/node'];
  return [];
}
