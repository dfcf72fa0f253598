// The CSV-family exports, one file per format: guppy.ts (GuPPy), pmat.ts
// (pMAT), wide-csv.ts (one wide CSV); what they share (row times, gap
// policies and segments, the metadata file) is in csv-common.ts.
export { type CsvExportOptions, csvGapPolicy, type ExportOutput } from './csv-common.ts';
export { GuppySink } from './guppy.ts';
export { PmatSink, pmatPairs } from './pmat.ts';
export { WideCsvSink, wideCsvMetadataPath } from './wide-csv.ts';
