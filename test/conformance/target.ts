// The device under test, named by FIBERRIG_TARGET (sim [default], sim-pty, native,
// native-pyboard, qemu, serial:PATH). Opening, setup and teardown live in the public test
// helpers (host/testing/, `fiberrig/testing`), so users' own HIL tests get the same targets;
// this module keeps the suite's names for them and the repository's build paths.
// The simulated targets measure the simulator's noise-free "linear" world and the C firmware's
// host and qemu builds measure the same function (its synthetic front end), so analog-content
// checks run on those; a real board measures real light, so they are pending there.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTarget, type Target, targetFromEnv } from '../../host/testing/index.ts';

export { IN_CI, MissingTool, type Target } from '../../host/testing/index.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIRMWARE_DIR = join(ROOT, 'hardware', 'firmware');
export const NATIVE_BINARY = join(FIRMWARE_DIR, 'build', 'host', 'fiberrig-fw-host');
export const NATIVE_PYBOARD_BINARY = join(FIRMWARE_DIR, 'build', 'host', 'fiberrig-fw-host-pyboard');
export const QEMU_IMAGE = join(FIRMWARE_DIR, 'build', 'qemu', 'fiberrig-fw-qemu.elf');

/** Starts the target FIBERRIG_TARGET names (default sim: sim://linear?seed=1, a fresh device per connection). */
export function startTarget(spec = targetFromEnv()): Promise<Target> {
  return openTarget(spec, { firmwareBuildDir: join(FIRMWARE_DIR, 'build') });
}
