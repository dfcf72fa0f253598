// fiberrig's johnny-five IO plugin (see fiberrig-io.ts for the pin map and semantics).
export { FiberrigIO, type FiberrigIOOptions, type FiberrigPin, MODES, type PinKind } from './fiberrig-io.ts';
export { FiberrigIOError } from './errors.ts';
