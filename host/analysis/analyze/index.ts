// `fiberrig analyze` (issue 16, point 5): analyzeRecording and the writer of its output directory.
export { analyzeInput, analyzeRecording, DEFAULT_MICRO_AROUSAL_MAX_S, microArousalsOf } from './analyze.ts';
export type { AnalyzeOptions, AnalyzeSettings, RecordingAnalysis, Unavailable } from './types.ts';
export { AnalyzeError, type AnalyzeErrorCode } from './errors.ts';
export { REPORT_PLOTS, type ReportPlot, reportHtml } from './report.ts';
export { analysisJson, ANALYSIS_FORMAT, ANALYSIS_FORMAT_VERSION } from './summary.ts';
export { defaultAnalysisDir, type WriteAnalysisOptions, type WrittenAnalysis, writeAnalysis } from './write.ts';
