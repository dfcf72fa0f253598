// Mocha hooks around a target: open it before the suite's first test, close it after the last.
// A missing tool or build output (MissingTool) makes the suite pending with the reason, and
// fails it when CI=true: a CI run never passes by skipping. Mocha is the caller's; the hooks are
// taken from its globals, so this module does not import it.
import { MissingTool, TestingError } from './errors.ts';
import { openTarget, type Target, type TargetOptions } from './targets.ts';

interface HookContext {
  skip(): void;
  test?: { title: string };
}
type Hook = (fn: (this: HookContext) => Promise<void>) => void;

/** The target of a suite; `target` throws until the suite's before() hook opened it. */
export interface TargetRef {
  readonly target: Target;
  /** The target, or null before it opened, after it closed, or when it was missing. */
  readonly current: Target | null;
}

/** Whether missing tools fail (CI=true) rather than make tests pending. */
export const IN_CI = process.env['CI'] === 'true';

/** The target a run names: $FIBERRIG_TARGET, else `fallback` (default 'sim'). */
export function targetFromEnv(fallback = 'sim'): string {
  return process.env['FIBERRIG_TARGET'] || fallback;
}

/**
 * Registers before/after hooks in the calling describe(): the target opens once, before the
 * suite's first test, and closes after its last.
 *
 *   describe('my rig', () => {
 *     const rig = useTarget('native');
 *     it('…', async () => { const r = await Rig.connect(rig.target.url); … });
 *   });
 */
export function useTarget(name: string = targetFromEnv(), options: TargetOptions = {}): TargetRef {
  const hooks = globalThis as unknown as { before?: Hook; after?: Hook };
  if (typeof hooks.before !== 'function' || typeof hooks.after !== 'function') {
    throw new TestingError('E_TARGET_START', 'useTarget() needs mocha\'s before/after hooks', 'call it inside a describe() of a mocha test file, or use openTarget() and close() yourself');
  }
  let current: Target | null = null;
  hooks.before(async function () {
    try {
      current = await openTarget(name, options);
    } catch (error) {
      if (error instanceof MissingTool && !IN_CI) {
        if (this.test) this.test.title += ` (pending: ${error.message})`;
        this.skip();
      }
      throw error;
    }
  });
  hooks.after(async () => {
    const t = current;
    current = null;
    await t?.close();
  });
  return {
    get target() {
      if (!current) throw new TestingError('E_TARGET_START', `the ${name} target is not open`, 'use ref.target inside it()/beforeEach(), after the suite\'s before() hook ran');
      return current;
    },
    get current() {
      return current;
    },
  };
}
