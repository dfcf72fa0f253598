// THE conformance suite: one behaviour for every fiberrig device. It runs
// against the target FIBERRIG_TARGET names (see target.ts; default: the
// in-process simulator) and talks to it only through the wire protocol.
//   npm test                                       -> the simulator, in-process
//   npm run conformance -- --target native|qemu|sim-pty
//   npm run conformance -- --device /dev/ttyACM0   -> a real board
// Checks of analog content (codes predicted from the LED drive) run only on
// targets that measure the simulator's linear model; they are pending, with
// the reason, elsewhere. A missing tool or build output makes the suite
// pending locally and FAIL under CI=true.
//
// One target boot per run: this is the suite's only .test.ts file; the topics
// live in handshake.ts, acquisition.ts, limits-and-storage.ts and analog.ts,
// and share harness.ts (the target, a reset device per test, the helpers).
import { acquisitionTests } from './acquisition.ts';
import { analogTests } from './analog.ts';
import { handshakeTests } from './handshake.ts';
import { useConformanceTarget } from './harness.ts';
import { limitsAndStorageTests } from './limits-and-storage.ts';

describe(`conformance [${process.env['FIBERRIG_TARGET'] || 'sim'}]`, function () {
  this.timeout(60_000);
  useConformanceTarget();
  handshakeTests();
  acquisitionTests();
  limitsAndStorageTests();
  analogTests();
});
