// The heartbeat-timeout and status-interval ranges are one contract stated in
// three places: protocol/src/limits.ts (host and simulator), the C firmware's
// #defines (core/fr_validate.c), and the proto comment users read. They must agree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HEARTBEAT_TIMEOUT_RANGE_MS, STATUS_INTERVAL_RANGE_MS } from '../../../protocol/index.ts';
import { HEARTBEAT_TIMEOUT_RANGE_MS as SIM_HEARTBEAT, STATUS_INTERVAL_RANGE_MS as SIM_STATUS } from '../../../firmware-sim/device/validate.ts';

const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
const define = (source: string, name: string): number => {
  const m = new RegExp(`#define\\s+${name}\\s+(\\d+)u?\\b`).exec(source);
  assert.ok(m, `${name} is defined`);
  return Number(m[1]);
};

describe('device ranges: host, simulator, C firmware and proto agree', () => {
  it('heartbeat timeout 100..60000 ms and status interval 50..60000 ms everywhere', () => {
    assert.equal(SIM_HEARTBEAT, HEARTBEAT_TIMEOUT_RANGE_MS);
    assert.equal(SIM_STATUS, STATUS_INTERVAL_RANGE_MS);
    const c = read('hardware/firmware/core/fr_validate.c');
    assert.deepEqual({ min: define(c, 'HEARTBEAT_MIN_MS'), max: define(c, 'HEARTBEAT_MAX_MS') }, { ...HEARTBEAT_TIMEOUT_RANGE_MS });
    assert.deepEqual({ min: define(c, 'STATUS_MIN_MS'), max: define(c, 'STATUS_MAX_MS') }, { ...STATUS_INTERVAL_RANGE_MS });
    const proto = read('protocol/fiberrig.proto');
    assert.match(proto, new RegExp(`heartbeat_timeout_ms = 11;\\s*// ${HEARTBEAT_TIMEOUT_RANGE_MS.min}\\.\\.${HEARTBEAT_TIMEOUT_RANGE_MS.max}, or 0 = device default`));
    assert.match(proto, new RegExp(`status_interval_ms = 12;\\s*// ${STATUS_INTERVAL_RANGE_MS.min}\\.\\.${STATUS_INTERVAL_RANGE_MS.max}, or 0 = device default`));
  });
});
