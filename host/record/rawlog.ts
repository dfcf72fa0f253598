// The raw log: format, writer and reader (one module each); this file gathers them.
export * from './rawlog-format.ts';
export * from './rawlog-reader.ts';
export * from './rawlog-writer.ts';
