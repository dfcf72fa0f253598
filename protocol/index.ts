// fiberrig protocol: the wire contract shared by host, simulator and firmware.
export * from './src/errors.ts';
export * from './src/limits.ts';
export * from './src/cobs.ts';
export * from './src/crc.ts';
export * from './src/frame.ts';
export * from './src/messages.ts';
export * from './src/samples.ts';
export * from './src/streams.ts';
export * from './src/version.ts';
export * from './src/calibration.ts';
export * from './src/haemoglobin.ts';
export * from './src/carrier.ts';
