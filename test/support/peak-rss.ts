// A child process's own peak RSS, without tools outside node: run it as
// `node --import PEAK_RSS_IMPORT …`; when it exits it writes its
// `process.resourceUsage().maxRSS` (KB) on a tagged stderr line, which
// `peakRssKb` reads back. Used by the NWB memory test and bench.

/** A data: module for `node --import` that reports the process's peak RSS on stderr at exit. */
export const PEAK_RSS_IMPORT = `data:text/javascript,${encodeURIComponent(
  'process.on("exit", () => process.stderr.write("\\nfiberrig-peak-rss-kb " + process.resourceUsage().maxRSS + "\\n"));',
)}`;

/** The peak RSS (KB) a child run with PEAK_RSS_IMPORT reported in its stderr. */
export function peakRssKb(stderr: string): number {
  const m = /^fiberrig-peak-rss-kb (\d+)$/m.exec(stderr);
  if (!m) throw new Error(`no peak RSS line in the child's stderr: ${stderr.slice(-500)}`);
  return Number(m[1]);
}
