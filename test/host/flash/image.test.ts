// The pyboard image as `make pyboard` leaves it: the build id and board model
// `fiberrig flash` verifies against, and a well-formed DfuSe file (prefix,
// one target and element at 0x08000000, suffix with the DFU CRC).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readImageIdentity } from '../../../host/flash/image.ts';
import { requireTool } from '../../support/required-tool.ts';

const BUILD = join('hardware', 'firmware', 'build', 'pyboard');
const PACKER = join('hardware', 'firmware', 'scripts', 'pyboard-image.mjs');

function checkDfu(dfu: Buffer, payload: Buffer): void {
  assert.equal(dfu.subarray(0, 5).toString('latin1'), 'DfuSe');
  assert.equal(dfu.readUInt32LE(6), dfu.length - 16, 'DFUImageSize excludes the suffix');
  assert.equal(dfu.subarray(11, 17).toString('latin1'), 'Target');
  assert.equal(dfu.readUInt32LE(11 + 266), payload.length + 8);
  assert.equal(dfu.readUInt32LE(11 + 274), 0x08000000, 'element address');
  assert.equal(dfu.readUInt32LE(11 + 278), payload.length);
  assert.deepEqual(dfu.subarray(11 + 282, 11 + 282 + payload.length), payload);
  const suffix = dfu.subarray(dfu.length - 16);
  assert.equal(suffix.readUInt16LE(2), 0xdf11);
  assert.equal(suffix.readUInt16LE(4), 0x0483);
  assert.equal(suffix.readUInt16LE(6), 0x011a);
  assert.equal(suffix.subarray(8, 11).toString('latin1'), 'UFD');
  assert.equal(suffix.readUInt8(11), 16);
  assert.equal(suffix.readUInt32LE(12), (crc32(dfu.subarray(0, dfu.length - 4)) ^ 0xffffffff) >>> 0, 'DFU CRC (no final inversion)');
}

describe('pyboard image', () => {
  it('the DfuSe packer writes prefix, target, element and a suffix with the DFU CRC', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiberrig-dfu-'));
    try {
      const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
      writeFileSync(join(dir, 'x.bin'), payload);
      execFileSync(process.execPath, [PACKER, 'dfu', join(dir, 'x.bin'), join(dir, 'x.dfu'), '0x08000000']);
      checkDfu(readFileSync(join(dir, 'x.dfu')), payload);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('make pyboard: the .elf, .bin and .dfu carry the build id and model flash verifies', function () {
    const dfu = join(BUILD, 'fiberrig-fw-pyboard.dfu');
    requireTool(this, existsSync(dfu) ? undefined : `${dfu} is not built`, '.ci/run builds it with npm run firmware:pyboard before npm test');
    const ids = ['elf', 'bin', 'dfu'].map((ext) => readImageIdentity(join(BUILD, `fiberrig-fw-pyboard.${ext}`)));
    for (const id of ids) {
      assert.equal(id.boardModel, 'pyboard-v1.1-pyphotometry');
      assert.equal(id.buildId, ids[0]?.buildId);
    }
    checkDfu(readFileSync(dfu), readFileSync(join(BUILD, 'fiberrig-fw-pyboard.bin')));
  });
});
