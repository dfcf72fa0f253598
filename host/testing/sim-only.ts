// For tests that need world control: the simulated target's control, or a typed error naming the target.
import { TestingError } from './errors.ts';
import type { Target } from './targets.ts';
import type { SimControl } from './world.ts';

/** `target.sim`, or E_TARGET_NOT_SIM when the target is firmware or hardware (mark such a test pending instead). */
export function assertSim(target: Target): SimControl {
  if (!target.sim) throw new TestingError('E_TARGET_NOT_SIM', `the ${target.name} target is not simulated: its world cannot be controlled`, 'run this test on sim or sim-pty, or skip it when target.sim is null');
  return target.sim;
}
