// Link traces for diagnosis, off unless the DEBUG environment variable names
// them (the `debug` package, as serialport uses it): DEBUG=fiberrig:* for all,
// DEBUG=fiberrig:link for requests, replies, timeouts and retries,
// DEBUG=fiberrig:frames for every frame in and out, DEBUG=fiberrig:rig for
// connects, reconnects and resumes. Written to stderr only when enabled;
// library code logs nothing else.
import createDebug, { type Debugger } from 'debug';

export type Trace = Debugger;

/** The trace of one part of fiberrig, `fiberrig:<name>`. */
export function trace(name: 'link' | 'frames' | 'rig'): Trace {
  return createDebug(`fiberrig:${name}`);
}
