// The LED and disk health an agent puts in its fleet entry (the dashboard's LED-watchdog and disk alarms).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { Subject } from 'rxjs';
import { diskHealth, LedWatch } from '../../../host/lab/rig-health.ts';
import { DarkReason, type Status } from '../../../protocol/index.ts';

const status = (darkReason: Status['darkReason']): Status => ({ darkReason }) as unknown as Status;

describe('host/lab: rig health in the fleet entry', () => {
  it('LEDs dark while the device reports the watchdog or a fault, from the first such Status; lit again (or merely stopped) clears it', () => {
    const s$ = new Subject<Status>();
    let t = Date.parse('2026-12-06T10:00:00Z');
    const watch = new LedWatch(s$, () => new Date(t));
    assert.deepEqual(watch.state, { dark: false, reason: null, sinceIso: null });
    s$.next(status(DarkReason.DARK_REASON_STOPPED));
    assert.equal(watch.state.dark, false, 'a Stop darkens the LEDs, but that is no alarm');
    s$.next(status(DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT));
    t += 5000;
    s$.next(status(DarkReason.DARK_REASON_HEARTBEAT_TIMEOUT));
    assert.deepEqual(watch.state, { dark: true, reason: 'watchdog', sinceIso: '2026-12-06T10:00:00.000Z' });
    s$.next(status(DarkReason.DARK_REASON_FAULT));
    assert.deepEqual(watch.state, { dark: true, reason: 'fault', sinceIso: '2026-12-06T10:00:05.000Z' });
    s$.next(status(DarkReason.DARK_REASON_NONE));
    assert.deepEqual(watch.state, { dark: false, reason: null, sinceIso: null });
    watch.close();
    s$.next(status(DarkReason.DARK_REASON_FAULT));
    assert.deepEqual(watch.state, { dark: false, reason: null, sinceIso: null }, 'closed: no longer follows the rig');
  });

  it('disk: free <= total bytes of the directory\'s file system, null for a directory that cannot be read', async () => {
    const d = await diskHealth(tmpdir());
    assert.ok(d && d.totalBytes > 0 && d.freeBytes >= 0 && d.freeBytes <= d.totalBytes, JSON.stringify(d));
    assert.equal(await diskHealth('/nonexistent/fiberrig-dir'), null);
  });
});
