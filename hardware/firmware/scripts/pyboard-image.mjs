#!/usr/bin/env node
// Image tools for the pyboard target (plain Node, no dependencies):
//   node scripts/pyboard-image.mjs dfu IMAGE.bin OUT.dfu [ADDRESS]
//     wraps a raw image in a DfuSe file (the format of ST's DfuSe and dfu-util:
//     "DfuSe" prefix, one "Target" with one element at ADDRESS, and the DFU
//     suffix with VID 0483 / PID df11 and the CRC over everything before it).
//   node scripts/pyboard-image.mjs size IMAGE.elf
//     flash / SRAM / CCM use from `arm-none-eabi-size -A`, checked against the
//     STM32F405RG with headroom (image <= 75% of the 896 KiB before the
//     calibration sector; static SRAM <= 75% of 128 KiB; SRAM + CCM <= 75% of
//     192 KiB); exit 1 when over.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
/** CRC-32 register after the data, without the final inversion (what the DFU suffix stores). */
function dfuCrc(buf) {
  let crc = 0xffffffff;
  for (const b of buf) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return crc >>> 0;
}

function packDfu(image, address, vid = 0x0483, pid = 0xdf11) {
  const element = Buffer.alloc(8 + image.length);
  element.writeUInt32LE(address, 0);
  element.writeUInt32LE(image.length, 4);
  image.copy(element, 8);
  const target = Buffer.alloc(274);
  target.write('Target', 0, 'latin1');
  target.writeUInt8(0, 6); // alternate setting 0: internal flash
  target.writeUInt32LE(1, 7); // named
  target.write('ST...', 11, 'latin1');
  target.writeUInt32LE(element.length, 266);
  target.writeUInt32LE(1, 270); // one element
  const prefix = Buffer.alloc(11);
  prefix.write('DfuSe', 0, 'latin1');
  prefix.writeUInt8(1, 5);
  prefix.writeUInt32LE(11 + target.length + element.length, 6);
  prefix.writeUInt8(1, 10); // one target
  const body = Buffer.concat([prefix, target, element]);
  const suffix = Buffer.alloc(16);
  suffix.writeUInt16LE(0xffff, 0); // bcdDevice: any
  suffix.writeUInt16LE(pid, 2);
  suffix.writeUInt16LE(vid, 4);
  suffix.writeUInt16LE(0x011a, 6); // DfuSe
  suffix.write('UFD', 8, 'latin1');
  suffix.writeUInt8(16, 11);
  const unsigned = Buffer.concat([body, suffix.subarray(0, 12)]);
  suffix.writeUInt32LE(dfuCrc(unsigned), 12);
  return Buffer.concat([body, suffix]);
}

function size(elf) {
  const out = execFileSync(process.env.ARM_SIZE ?? 'arm-none-eabi-size', ['-A', '-d', elf], { encoding: 'utf8' });
  let flash = 0;
  let sram = 0;
  let ccm = 0;
  const sections = {};
  for (const line of out.split('\n')) {
    const m = /^(\.\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (!m) continue;
    const [, name, bytes, addr] = [m[0], m[1], Number(m[2]), Number(m[3])];
    sections[name] = bytes;
    if (addr >= 0x08000000 && addr < 0x08100000) flash += bytes;
    else if (addr >= 0x20000000 && addr < 0x20020000) sram += bytes;
    else if (addr >= 0x10000000 && addr < 0x10010000) ccm += bytes;
  }
  flash += sections['.data'] ?? 0; // .data's initial values live in flash too
  const FLASH_MAX = 768 * 1024; // sectors 0-9: 10 and 11 hold calibration records
  const SRAM_MAX = 128 * 1024;
  const CCM_MAX = 64 * 1024;
  const pct = (a, b) => `${((100 * a) / b).toFixed(1)}%`;
  console.log(`pyboard image ${elf}`);
  console.log(`  flash ${flash} B of ${FLASH_MAX} (${pct(flash, FLASH_MAX)}; sectors 10-11 reserved for calibration)`);
  console.log(`  SRAM  ${sram} B of ${SRAM_MAX} static (${pct(sram, SRAM_MAX)}; the rest is stack)`);
  console.log(`  CCM   ${ccm} B of ${CCM_MAX}`);
  const problems = [];
  if (flash > 0.75 * FLASH_MAX) problems.push(`flash use ${pct(flash, FLASH_MAX)} leaves less than 25% headroom`);
  if (sram > 0.75 * SRAM_MAX) problems.push(`static SRAM ${pct(sram, SRAM_MAX)} leaves less than 25% for stack and growth`);
  if (ccm > CCM_MAX) problems.push('CCM overflow');
  if (sram + ccm > 0.75 * (SRAM_MAX + CCM_MAX)) problems.push(`SRAM + CCM ${pct(sram + ccm, SRAM_MAX + CCM_MAX)} leaves less than 25% headroom`);
  for (const p of problems) console.error(`pyboard image: ${p}`);
  return problems.length === 0 ? 0 : 1;
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'dfu' && args.length >= 2) {
  const address = args[2] ? Number(args[2]) : 0x08000000;
  writeFileSync(args[1], packDfu(readFileSync(args[0]), address));
} else if (cmd === 'size' && args.length === 1) {
  process.exit(size(args[0]));
} else {
  console.error('usage: pyboard-image.mjs dfu IMAGE.bin OUT.dfu [ADDRESS] | size IMAGE.elf');
  process.exit(2);
}
