// Issue 17 point 5 at the recording level: a device error during the re-handshake after a device
// reset ends the recording cleanly — the Recorder returns the typed error (no unhandled rejection,
// the process goes on), the directory says it failed, and the raw log reads back whole with the
// samples recorded before the reset.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../../host/cli/devices.ts';
import { issue } from '../../../firmware-sim/device/issue.ts';
import { DEFAULT_LOCKIN_CONFIG } from '../../../host/config/acquisition.ts';
import { RAW_LOG_FILE_NAME } from '../../../host/record/rawlog.ts';
import { RawLogReader } from '../../../host/record/rawlog-reader.ts';
import { replayRecording } from '../../../host/record/replay.ts';
import { Recorder } from '../../../host/record/recorder.ts';
import { FAILED_FILE_NAME } from '../../../host/record/recording-end.ts';
import { ErrorCode } from '../../../protocol/index.ts';
import { useSimPorts } from '../../support/sim-ports.ts';

describe('Recorder: a device error during the re-handshake after a reset', function () {
  this.timeout(60_000);
  const ports = useSimPorts();
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'fiberrig-resume-error-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ends the recording with the typed error, marks it failed, and leaves a raw log that reads back whole with the samples before the reset', async () => {
    const url = 'sim://linear?seed=5&speed=max&faults=reset@2';
    const handle = ports.createPort(url);
    // after the reset the device refuses every Configure (as a firmware bug or a changed board would)
    const commands = (handle.device as unknown as { commands: { onConfigure: (id: number, c: unknown) => void; sendError: (id: number, i: unknown) => void } }).commands;
    const original = commands.onConfigure.bind(commands);
    let reset = false;
    handle.device.events.on('reset', () => { reset = true; });
    commands.onConfigure = (id, c) => (reset ? commands.sendError(id, issue(ErrorCode.ERROR_CODE_INVALID_CONFIG, 'config', 'injected by the test')) : original(id, c));

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    const out = join(dir, 'rec');
    try {
      const result = await new Recorder({ device: url, file: DEFAULT_LOCKIN_CONFIG, durationS: 10, outDir: out }).run();
      await new Promise((res) => setTimeout(res, 100));
      assert.ok(reset, 'the device did reset');
      assert.ok(result.error, 'the recording reports its failure');
      assert.match(`${result.error.message} ${(result.error as { code?: string }).code ?? ''}`, /resume|E_RESUME_FAILED|configur/i);
      assert.equal(result.summary.stoppedBy, 'error');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    const session = JSON.parse(readFileSync(join(out, 'session.json'), 'utf8')) as { status: string };
    assert.equal(session.status, 'failed');
    assert.ok(existsSync(join(out, FAILED_FILE_NAME)), 'a FAILED file says why');
    const reader = await RawLogReader.open(join(out, RAW_LOG_FILE_NAME));
    try {
      for await (const _ of reader.records()) { /* read every record */ }
      assert.equal(reader.stats.corruptSpans, 0, 'no damaged span');
      assert.equal(reader.stats.tornTailBytes, 0, 'no torn tail');
      assert.ok(reader.stats.cleanEnd, 'the raw log was closed with its end record');
    } finally {
      await reader.close();
    }
    let samples = 0;
    await replayRecording(out, [{ item: (i) => { if (i.kind === 'block' && i.source === 'detector') samples += i.sampleCount; } }], { demod: false, cutoffS: null });
    assert.ok(samples >= 1.5 * 10_000, `${samples} detector samples before the reset (2 s at 10 kS/s)`);
  });
});
