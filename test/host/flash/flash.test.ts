// `fiberrig flash` against recording fakes of dfu-util and openocd on PATH (the
// real tools cannot reach hardware here) and the simulator as the board that
// enters its bootloader and comes back to be verified.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../../host/cli/main.ts';
import { loadBoard } from '../../../host/flash/board.ts';
import { dfuArgs, parseDfuList } from '../../../host/flash/flash.ts';
import { Rig } from '../../../host/rig/rig.ts';
import { IN_CI, MissingTool, startTarget, type Target } from '../../conformance/target.ts';

const F405_LISTING = 'dfu-util 0.11\nFound DFU: [0483:df11] ver=2200, devnum=7, cfg=1, intf=0, path="1-2", alt=3, name="@Device Feature/0xFFFF0000/01*004 e", serial="3276386B3533"\n' +
  'Found DFU: [0483:df11] ver=2200, devnum=7, cfg=1, intf=0, path="1-2", alt=0, name="@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", serial="3276386B3533"\n';
const F401_LISTING = 'Found DFU: [0483:df11] ver=2200, devnum=7, cfg=1, intf=0, path="1-2", alt=0, name="@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg", serial="1"\n';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface Scripted {
  listing?: string;
  output?: string;
  code?: number;
}

describe('cli: fiberrig flash (fake dfu-util/openocd on PATH, simulator as the board)', () => {
  let dir: string;
  let bin: string;
  let simBoard: string;
  const savedPath = process.env['PATH'];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fiberrig-flash-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
    // the pyboard definition, with the simulator's model so sim:// is "the right board"
    const def = JSON.parse(readFileSync(join('hardware', 'boards', 'pyboard.json'), 'utf8')) as Record<string, unknown>;
    def['model'] = 'fiberrig-sim-4x2';
    simBoard = join(dir, 'simboard.json');
    writeFileSync(simBoard, JSON.stringify(def));
  });
  afterEach(() => {
    process.env['PATH'] = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  function fakeTool(name: string, s: Scripted): void {
    writeFileSync(join(dir, `${name}.list`), s.listing ?? '');
    writeFileSync(join(dir, `${name}.out`), s.output ?? '');
    const script = `#!/bin/sh
printf '%s\\n' "$*" >> '${dir}/${name}.argv'
if [ "$1" = "-l" ]; then cat '${dir}/${name}.list'; exit 0; fi
cat '${dir}/${name}.out'
exit ${s.code ?? 0}
`;
    writeFileSync(join(bin, name), script);
    chmodSync(join(bin, name), 0o755);
    process.env['PATH'] = `${bin}:${savedPath ?? ''}`;
  }
  const calls = (name: string): string[] => {
    try {
      return readFileSync(join(dir, `${name}.argv`), 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };
  function image(buildId: string, model: string | null, ext = 'dfu'): string {
    const file = join(dir, `fw.${ext}`);
    const parts = [Buffer.from([0x44, 0x66, 0x75, 0x53, 0x65, 0x01]), Buffer.from(`\0FRBUILDID:${buildId}\0`, 'latin1')];
    if (model !== null) parts.push(Buffer.from(`FRBOARD:${model}\0`, 'latin1'));
    writeFileSync(file, Buffer.concat(parts));
    return file;
  }
  async function flash(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['flash', ...args], { stdout, stderr });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('dfu: enters the bootloader, runs dfu-util on the .dfu and verifies the build id', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING, output: 'Download done.\nFile downloaded successfully\n' });
    const fw = image('sim', 'fiberrig-sim-4x2');
    const r = await flash(['--board', simBoard, '--firmware', fw, '--device', 'sim://linear', '--json', '--timeout', '10']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { verified: boolean; enteredBootloader: boolean; buildId: string; args: string[] };
    assert.equal(summary.verified, true);
    assert.equal(summary.enteredBootloader, true);
    assert.equal(summary.buildId, 'sim');
    assert.deepEqual(calls('dfu-util'), ['-l', `-a 0 -d 0483:df11 -s :leave -D ${fw}`]);
    assert.match(r.stderr, /asked the board to enter its bootloader/);
    assert.match(r.stderr, /verified: fiberrig-sim-4x2 runs build sim/);
  });

  it('dfu: a .bin is written at 0x08000000', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING });
    const fw = image('sim', null, 'bin');
    const r = await flash(['--board', simBoard, '--firmware', fw, '--device', 'sim://linear', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(calls('dfu-util')[1], `-a 0 -d 0483:df11 -s 0x08000000:leave -D ${fw}`);
    assert.match(r.stdout, /verified at sim:\/\/linear/);
  });

  it('stlink: runs openocd program … verify reset exit and verifies', async () => {
    fakeTool('openocd', { output: '** Programming Finished **\n** Verified OK **\n' });
    const fw = image('sim', 'fiberrig-sim-4x2', 'elf');
    const r = await flash(['--board', simBoard, '--firmware', fw, '--via', 'stlink', '--device', 'sim://linear', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(calls('openocd'), [`-f interface/stlink.cfg -f target/stm32f4x.cfg -c program ${fw} verify reset exit`]);
  });

  it('missing tool: names the Debian package', async () => {
    process.env['PATH'] = bin; // empty: no dfu-util
    const fw = image('sim', null);
    const r = await flash(['--board', simBoard, '--firmware', fw, '--device', 'sim://linear', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_TOOL_MISSING: dfu-util is not installed .*apt-get install dfu-util/);
  });

  it('no board: dfu-util finds no DFU device, and the hint says how to set BOOT0', async () => {
    fakeTool('dfu-util', { listing: 'dfu-util 0.11\n' });
    const fw = image('sim', null);
    const r = await flash(['--board', 'pyboard', '--firmware', fw, '--device', 'tcp://127.0.0.1:1', '--dfu-wait', '0.3']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no running fiberrig firmware at tcp:\/\/127\.0\.0\.1:1/);
    assert.match(r.stderr, /E_FLASH_NO_BOARD: dfu-util found no DFU device — Connect the pyboard's DFU pin .* 3V3/);
    assert.equal(calls('dfu-util').filter((c) => c.startsWith('-a')).length, 0, 'nothing written');
  });

  it('wrong board: the running board reports another model', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING });
    const fw = image('sim', null);
    const r = await flash(['--board', 'pyboard', '--firmware', fw, '--device', 'sim://linear', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_WRONG_BOARD: the board at sim:\/\/linear is a "fiberrig-sim-4x2", not a "pyboard-v1.1-pyphotometry"/);
    assert.deepEqual(calls('dfu-util'), []);
  });

  it('wrong board: the STM32 in DFU mode has another flash layout', async () => {
    fakeTool('dfu-util', { listing: F401_LISTING });
    const fw = image('sim', null);
    const r = await flash(['--board', 'pyboard', '--firmware', fw, '--device', 'tcp://127.0.0.1:1', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_WRONG_BOARD: the STM32 in DFU mode has flash .*03\*128Kg.*STM32F405RG/);
  });

  it('wrong board: the image was built for another board', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING });
    const fw = image('x', 'qemu-netduinoplus2');
    const r = await flash(['--board', 'pyboard', '--firmware', fw, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_WRONG_BOARD: .* was built for "qemu-netduinoplus2"/);
  });

  it('tool failure: dfu-util exits non-zero, its output is quoted', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING, output: 'dfu-util: Error during download get_status\n', code: 74 });
    const fw = image('sim', null);
    const r = await flash(['--board', simBoard, '--firmware', fw, '--device', 'sim://linear', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_TOOL_FAILED: dfu-util failed \(exit 74\): dfu-util: Error during download get_status/);
  });

  it('stlink: no probe and wrong target map to their own errors', async () => {
    const fw = image('sim', null, 'elf');
    fakeTool('openocd', { output: 'Error: open failed\n', code: 1 });
    let r = await flash(['--board', simBoard, '--firmware', fw, '--via', 'stlink', '--quiet', '--no-verify']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_NO_BOARD: openocd found no ST-Link.*SWDIO/);
    rmSync(join(dir, 'openocd.argv'));
    fakeTool('openocd', { output: 'Warn : UNEXPECTED idcode: 0x2ba01477\n', code: 1 });
    r = await flash(['--board', simBoard, '--firmware', fw, '--via', 'stlink', '--quiet', '--no-verify']);
    assert.match(r.stderr, /E_FLASH_WRONG_BOARD: openocd does not see an STM32F4/);
  });

  it('verify after flash: a build id mismatch fails', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING });
    const fw = image('v9-not-what-runs', 'fiberrig-sim-4x2');
    const r = await flash(['--board', simBoard, '--firmware', fw, '--device', 'sim://linear', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_VERIFY: the board runs build "sim" after flashing, the image is build "v9-not-what-runs"/);
  });

  it('verify after flash: a board that never comes back fails with a hint', async () => {
    fakeTool('dfu-util', { listing: F405_LISTING });
    const fw = image('sim', null);
    const r = await flash(['--board', simBoard, '--firmware', fw, '--device', join(dir, 'ttyACM9'), '--timeout', '0.5', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_FLASH_NO_RETURN: .*ttyACM9 did not reappear .* press RST/);
  });

  it('image without a build id, unknown board and bad --via are usage errors', async () => {
    writeFileSync(join(dir, 'plain.bin'), Buffer.alloc(64));
    let r = await flash(['--board', 'pyboard', '--firmware', join(dir, 'plain.bin')]);
    assert.match(r.stderr, /E_FLASH_IMAGE: .* carries no fiberrig build id/);
    r = await flash(['--board', 'nosuchboard']);
    assert.match(r.stderr, /E_FLASH_BOARD_DEF: no board definition "nosuchboard"/);
    r = await flash(['--board', 'pyboard', '--via', 'jtag']);
    assert.match(r.stderr, /E_FLASH_USAGE: --via jtag/);
    assert.equal(r.code, 1);
  });
});

describe('flash: helpers', () => {
  it('parses dfu-util -l', () => {
    const found = parseDfuList(F405_LISTING);
    assert.equal(found.length, 2);
    assert.deepEqual(found[1], { vidPid: '0483:df11', alt: 0, name: '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg', serial: '3276386B3533' });
  });
  it('builds the documented dfu-util command line', () => {
    assert.deepEqual(dfuArgs(loadBoard('pyboard'), 'fw.bin'), ['-a', '0', '-d', '0483:df11', '-s', '0x08000000:leave', '-D', 'fw.bin']);
  });
});

describe('cli: fiberrig flash --via stlink, verified against the C firmware built for the host', () => {
  let target: Target | undefined;
  let dir: string;
  const savedPath = process.env['PATH'];

  before(async function () {
    try {
      target = await startTarget('native');
    } catch (error) {
      if (error instanceof MissingTool && !IN_CI) this.skip();
      throw error;
    }
  });
  after(async () => {
    await target?.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fiberrig-flash-native-'));
  });
  afterEach(() => {
    process.env['PATH'] = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(buildId: (running: string) => string): Promise<string[]> {
    const rig = await Rig.connect(target!.url);
    const { buildId: running, boardModel } = rig.info;
    await rig.close();
    const def = JSON.parse(readFileSync(join('hardware', 'boards', 'pyboard.json'), 'utf8')) as Record<string, unknown>;
    def['model'] = boardModel;
    writeFileSync(join(dir, 'board.json'), JSON.stringify(def));
    writeFileSync(join(dir, 'fw.bin'), Buffer.from(`\0FRBUILDID:${buildId(running)}\0FRBOARD:${boardModel}\0`, 'latin1'));
    // an ST-Link flash (no EnterBootloader: the host build would stay in its bootloader state)
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'openocd'), '#!/bin/sh\necho "** Programming Finished **"\nexit 0\n');
    chmodSync(join(dir, 'bin', 'openocd'), 0o755);
    process.env['PATH'] = `${join(dir, 'bin')}:${savedPath ?? ''}`;
    return ['flash', '--board', join(dir, 'board.json'), '--firmware', join(dir, 'fw.bin'), '--via', 'stlink', '--device', target!.url, '--timeout', '10', '--quiet'];
  }

  it('passes when the firmware reports the image build id', async () => {
    const args = await setup((running) => running);
    const stdout = new Capture();
    const stderr = new Capture();
    assert.equal(await main(args, { stdout, stderr }), 0, stderr.text);
    assert.match(stdout.text, /verified at tcp:/);
  });

  it('fails verify when it reports another build id', async () => {
    const args = await setup(() => 'not-this-build');
    const stdout = new Capture();
    const stderr = new Capture();
    assert.equal(await main(args, { stdout, stderr }), 1);
    assert.match(stderr.text, /E_FLASH_VERIFY: the board runs build ".+" after flashing, the image is build "not-this-build"/);
  });
});
