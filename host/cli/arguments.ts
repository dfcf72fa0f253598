// Argument conventions shared by the commands: a device is always `--device
// URL`, a recording read is always `--in RECORDING`. The older positional
// forms (`fiberrig sim sim://sleep`, `fiberrig inspect DIR`) still work, with
// a deprecation note on stderr.
import { FiberrigError } from '../../protocol/index.ts';
import type { CliIo } from './main.ts';

export interface FlagOrPositional {
  flag: string;
  value: string | undefined;
  positional: string | undefined;
  command: string;
  /** The flag form, for the messages. */
  example: string;
  /** Used when neither is given; absent: one is required. */
  fallback?: string;
  /** The positional form is a documented form of this command, not a deprecated one (no note). */
  positionalDocumented?: boolean;
}

/** The flag's value, or the deprecated positional one (noted on stderr); both given must agree. */
export function flagOrPositional(io: CliIo, a: FlagOrPositional): string {
  if (a.value !== undefined && a.positional !== undefined && a.value !== a.positional) {
    throw new FiberrigError('E_USAGE', `fiberrig ${a.command} got ${a.flag} ${a.value} and also ${a.positional}`, `give it once: ${a.example}`);
  }
  if (a.value !== undefined) return a.value;
  if (a.positional !== undefined) {
    if (a.positionalDocumented) return a.positional;
    io.stderr.write(`fiberrig: note: \`fiberrig ${a.command} ${a.positional}\` is deprecated; write \`fiberrig ${a.command} ${a.flag} ${a.positional}\`\n`);
    return a.positional;
  }
  if (a.fallback !== undefined) return a.fallback;
  throw new FiberrigError('E_USAGE', `fiberrig ${a.command} needs ${a.flag}`, `e.g. ${a.example}`);
}
