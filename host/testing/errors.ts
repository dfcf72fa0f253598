// Errors of the test helpers (fiberrig/testing): typed, with a code and a hint.
import { FiberrigError } from '../../protocol/index.ts';

export type TestingErrorCode =
  | 'E_TARGET_UNKNOWN' // a target name the helpers do not know
  | 'E_TARGET_MISSING' // a tool or build output the target needs is not there
  | 'E_TARGET_START' // the target's process did not come up
  | 'E_TARGET_NOT_SIM' // world control asked of a target that is not simulated
  | 'E_ASSERT_TRACKS' // expectTracks failed
  | 'E_ASSERT_GAPS'; // expectGaps failed

export class TestingError extends FiberrigError {
  declare readonly code: TestingErrorCode;

  constructor(code: TestingErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'TestingError';
  }
}

/**
 * A tool or build output a target needs is missing (e.g. the native firmware is not built,
 * socat or QEMU is not installed). useTarget() makes the tests pending with this message,
 * and fails them when CI=true.
 */
export class MissingTool extends TestingError {
  constructor(message: string, hint = 'install the tool or build the output it names, then run again') {
    super('E_TARGET_MISSING', message, hint);
    this.name = 'MissingTool';
  }
}
