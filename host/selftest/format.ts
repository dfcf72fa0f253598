// The self-test report as text: one line per check, outcome first.
import type { SelfTestReport } from './types.ts';

const WIDTH = 5;

/** Plain-text report (no colour), ending with the overall verdict. */
export function formatReport(report: SelfTestReport): string {
  const out: string[] = [];
  out.push(`fiberrig selftest: ${report.device}`);
  if (report.firmware) out.push(`  firmware ${report.firmware}, board ${report.board ?? '?'}, serial ${report.serialNumber ?? '?'}`);
  const titleWidth = Math.min(48, Math.max(...report.lines.map((l) => l.title.length)));
  for (const l of report.lines) out.push(`${l.outcome.padEnd(WIDTH)} ${l.title.padEnd(titleWidth)}  ${l.detail}`);
  const counts = (['PASS', 'WARN', 'FAIL', 'N/A'] as const).map((o) => `${report.lines.filter((l) => l.outcome === o).length} ${o}`).join(', ');
  out.push(`${report.outcome}: ${counts} (${(report.durationMs / 1000).toFixed(1)} s)`);
  return `${out.join('\n')}\n`;
}
