// The part of johnny-five's API that fiberrig's plugin, example and tests use
// (johnny-five ships no type declarations). Extend as needed.
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';

  export interface BoardOptions {
    io?: unknown;
    id?: string;
    /** johnny-five's REPL: leave it off in scripts and tests (it exits the process when stdin closes). */
    repl?: boolean;
    debug?: boolean;
    sigint?: boolean;
    timeout?: number;
  }

  export class Board extends EventEmitter {
    constructor(options?: BoardOptions);
    readonly isReady: boolean;
    readonly io: unknown;
    readonly pins: ArrayLike<{ supportedModes: number[]; mode: number; value: number; analogChannel: number }>;
    readonly RESOLUTION: { ADC: number; DAC: number | null; PWM: number };
    samplingInterval(ms: number): this;
  }

  export type PinOption = number | string;

  export class Led {
    constructor(options: PinOption | { pin: PinOption; board?: Board });
    readonly pin: number;
    readonly value: number;
    readonly isOn: boolean;
    on(): this;
    off(): this;
    toggle(): this;
    brightness(value: number): this;
    intensity(percent: number): this;
    blink(ms?: number, callback?: () => void): this;
    stop(): this;
  }

  export class Sensor extends EventEmitter {
    constructor(options: PinOption | { pin: PinOption; freq?: number; threshold?: number; board?: Board; type?: 'analog' | 'digital' });
    readonly pin: number;
    readonly value: number;
    readonly raw: number | null;
    readonly resolution: number;
    disable(): this;
    enable(): this;
  }

  export class Button extends EventEmitter {
    constructor(options: PinOption | { pin: PinOption; invert?: boolean; pullup?: boolean; holdtime?: number; board?: Board });
    readonly pin: number;
    readonly isDown: boolean;
    readonly value: number;
  }

  export class Pin extends EventEmitter {
    constructor(options: PinOption | { pin: PinOption; type?: 'digital' | 'analog'; mode?: number; board?: Board });
    readonly addr: number;
    high(): this;
    low(): this;
  }

  const five: {
    Board: typeof Board;
    Led: typeof Led;
    Sensor: typeof Sensor;
    Button: typeof Button;
    Pin: typeof Pin;
  };
  export default five;
}
