// Writes one analysis to a directory, all or nothing: every file goes into a temporary sibling
// directory, which is renamed into place only when complete. A failure removes the temporary
// directory and leaves no output (and an earlier analysis there untouched).
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { AnalyzeError } from './errors.ts';
import { reportHtml } from './report.ts';
import { analysisJson, toJsonText } from './summary.ts';
import { boutsCsv, epochsCsv, eventsCsv, lockedCsv, psdCsv, tracesCsvChunks } from './tables.ts';
import type { RecordingAnalysis } from './types.ts';

export interface WriteAnalysisOptions {
  /** write traces.csv (corrected traces at the analysis rate; default true) */
  traces?: boolean;
  /** time stamp written into analysis.json and the report (default now) */
  analyzedAt?: Date;
}

export interface WrittenAnalysis {
  dir: string;
  /** file names inside dir */
  files: string[];
}

/** The default output directory of a recording: REC/analysis. */
export const defaultAnalysisDir = (recording: string): string => join(resolve(recording), 'analysis');

/**
 * Writes analysis.json, the CSV tables and report.html into `dir`. An existing `dir` is replaced
 * only when it holds an earlier analysis (analysis.json); anything else there is refused.
 */
export async function writeAnalysis(a: RecordingAnalysis, dir: string, options: WriteAnalysisOptions = {}): Promise<WrittenAnalysis> {
  const target = resolve(dir);
  const analyzedAt = options.analyzedAt ?? new Date();
  if (resolve(a.recording) === target) {
    throw new AnalyzeError('E_ANALYZE_OUT_INSIDE', `--out ${target} is the recording itself`, 'give another directory (the default is REC/analysis)');
  }
  if (existsSync(target)) {
    const s = await stat(target);
    if (!s.isDirectory() || !existsSync(join(target, 'analysis.json'))) {
      throw new AnalyzeError('E_ANALYZE_OUT_EXISTS', `${target} exists and is not an earlier analysis (no analysis.json): it is left alone`, 'give a new or empty --out directory');
    }
  }
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.partial-${tag}`);
  await mkdir(tmp);
  try {
    const files: string[] = [];
    const put = async (name: string, text: string): Promise<void> => { await writeFile(join(tmp, name), text); files.push(name); };
    await put('epochs.csv', epochsCsv(a));
    await put('bouts.csv', boutsCsv(a));
    await put('events.csv', eventsCsv(a));
    await put('psd.csv', psdCsv(a));
    await put('locked.csv', lockedCsv(a));
    if (options.traces ?? true) {
      const out = createWriteStream(join(tmp, 'traces.csv'));
      for (const chunk of tracesCsvChunks(a)) if (!out.write(chunk)) await once(out, 'drain');
      out.end();
      await once(out, 'finish');
      files.push('traces.csv');
    }
    await put('report.html', reportHtml(a, analyzedAt));
    files.push('analysis.json');
    await writeFile(join(tmp, 'analysis.json'), toJsonText(analysisJson(a, [...files].sort(), analyzedAt)));
    files.sort();
    if (existsSync(target)) {
      // replace the earlier analysis: move it aside, move the new one in, then delete the old one
      const old = join(parent, `.${basename(target)}.old-${tag}`);
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(old, target);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
    return { dir: target, files };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
