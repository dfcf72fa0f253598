// Typed errors of `fiberrig flash`: each names what went wrong and what to do.
import { FiberrigError } from '../../protocol/index.ts';

export type FlashErrorCode =
  | 'E_FLASH_USAGE'
  | 'E_FLASH_BOARD_DEF'
  | 'E_FLASH_IMAGE'
  | 'E_FLASH_TOOL_MISSING'
  | 'E_FLASH_NO_BOARD'
  | 'E_FLASH_WRONG_BOARD'
  | 'E_FLASH_TOOL_FAILED'
  | 'E_FLASH_NO_RETURN'
  | 'E_FLASH_VERIFY';

export class FlashError extends FiberrigError {
  declare readonly code: FlashErrorCode;

  constructor(code: FlashErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(code, message, hint, options);
    this.name = 'FlashError';
  }
}
