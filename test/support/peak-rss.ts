// A child process's own peak RSS, without tools outside node: run it as
// `node --import PEAK_RSS_IMPORT …`; when it exits it writes its peak RSS (KB) on a tagged
// stderr line, which `peakRssKb` reads back. Used by the NWB memory test and bench.
//
// On Linux the figure is VmHWM of /proc/self/status: the high-water mark of this process's own
// memory. `process.resourceUsage().maxRSS` (getrusage) is not: Linux carries the parent's
// high-water mark into the child across fork + exec, so a child spawned by a 370 MB test runner
// reports at least 370 MB whatever it does. maxRSS is the fallback elsewhere.

/** A data: module for `node --import` that reports the process's peak RSS on stderr at exit. */
export const PEAK_RSS_IMPORT = `data:text/javascript,${encodeURIComponent(
  'import { readFileSync } from "node:fs";'
  + 'const own = () => { try { const m = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8")); return m ? Number(m[1]) : null; } catch { return null; } };'
  + 'process.on("exit", () => process.stderr.write("\\nfiberrig-peak-rss-kb " + (own() ?? process.resourceUsage().maxRSS) + "\\n"));',
)}`;

/** The peak RSS (KB) a child run with PEAK_RSS_IMPORT reported in its stderr. */
export function peakRssKb(stderr: string): number {
  const m = /^fiberrig-peak-rss-kb (\d+)$/m.exec(stderr);
  if (!m) throw new Error(`no peak RSS line in the child's stderr: ${stderr.slice(-500)}`);
  return Number(m[1]);
}
