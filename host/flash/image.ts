// The build id embedded in a firmware image. The firmware keeps a tagged
// string in .rodata ("FRBUILDID:" + id + NUL, and "FRBOARD:" + model + NUL),
// so the same scan finds it in the .elf, the .bin and the .dfu.
import { existsSync, readFileSync } from 'node:fs';
import { FlashError } from './errors.ts';

export const BUILD_ID_TAG = 'FRBUILDID:';
export const BOARD_TAG = 'FRBOARD:';

export interface ImageIdentity {
  buildId: string;
  boardModel: string | null;
  bytes: number;
}

function tagged(data: Buffer, tag: string): string | null {
  const at = data.indexOf(tag, 0, 'latin1');
  if (at < 0) return null;
  const start = at + tag.length;
  const end = data.indexOf(0, start);
  if (end < 0 || end - start > 128) return null;
  const value = data.subarray(start, end).toString('latin1');
  return /^[\x20-\x7e]+$/.test(value) ? value : null;
}

export function readImageIdentity(file: string): ImageIdentity {
  if (!existsSync(file)) {
    throw new FlashError('E_FLASH_IMAGE', `firmware image ${file} does not exist`, 'build it with `make -C hardware/firmware pyboard`, or give --firmware FILE');
  }
  const data = readFileSync(file);
  const buildId = tagged(data, BUILD_ID_TAG);
  if (buildId === null) {
    throw new FlashError('E_FLASH_IMAGE', `${file} carries no fiberrig build id (no "${BUILD_ID_TAG}" tag)`, 'flash an image built from hardware/firmware (make pyboard): other images cannot be verified');
  }
  return { buildId, boardModel: tagged(data, BOARD_TAG), bytes: data.length };
}
