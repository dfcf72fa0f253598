// A simulated optical power meter held at the fiber tip of a simulated device:
// what a technician's meter (a photodiode sensor on a Thorlabs PM100-style
// console) would read while `fiberrig calibrate` steps an LED.
//
// It reads the light of every lit LED (they share one fiber), from the
// world's LED model at the device's current LED currents and the world's
// temperature now (warm-up drift included), through the meter's own
// behaviour: a first-order response (the reading approaches a new level with
// time constant responseTauS of world time, so a reading taken right after a
// step has not settled), a gain error, and Gaussian noise (relative + absolute)
// from its own seeded stream. truthUw() gives the noise-free, lag-free value
// for tests.
import type { SimDevice } from './device.ts';
import { SimError } from './errors.ts';
import { Rng } from './faults.ts';

export interface SimPowerMeterOptions {
  /** Relative noise of one reading (standard deviation). Default 0.001 (0.1 %). */
  relativeNoise?: number;
  /** Absolute noise of one reading, µW (standard deviation). Default 0.002. */
  noiseUw?: number;
  /** Response time constant, seconds of world time. Default 0.3. */
  responseTauS?: number;
  /** Meter gain (1 = a perfectly calibrated meter). Default 1. */
  gain?: number;
  /** Noise seed. Default: derived from the device's serial number. */
  seed?: number;
}

const nonNegative = (name: string, v: number): number => {
  if (!(Number.isFinite(v) && v >= 0)) throw new SimError('E_SIM_OPTIONS', `power meter ${name} ${v}`, `give a finite ${name} >= 0`);
  return v;
};

function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class SimPowerMeter {
  readonly model = 'fiberrig-sim PM-1';
  readonly serialNumber: string;
  /** Wavelength correction the meter is set to, nm (0 = unset). Recorded only: the simulated sensor is flat. */
  wavelengthNm = 0;
  private readonly relativeNoise: number;
  private readonly noiseUw: number;
  private readonly tauS: number;
  private readonly gain: number;
  private readonly rng: Rng;
  private level: number | null = null;
  private levelAtS = 0;

  constructor(
    readonly device: SimDevice,
    options: SimPowerMeterOptions = {},
  ) {
    if (typeof device.world.ledPowerUw !== 'function') {
      throw new SimError('E_SIM_NO_OPTICS', `scenario "${device.world.scenario}" has no LED optics for a power meter to read`, 'use a world scenario such as sim://dark or sim://sleep');
    }
    this.relativeNoise = nonNegative('relativeNoise', options.relativeNoise ?? 0.001);
    this.noiseUw = nonNegative('noiseUw', options.noiseUw ?? 0.002);
    this.tauS = nonNegative('responseTauS', options.responseTauS ?? 0.3);
    this.gain = nonNegative('gain', options.gain ?? 1);
    this.serialNumber = `PM-${device.board.serialNumber}`;
    this.rng = new Rng(options.seed ?? seedOf(this.serialNumber));
  }

  /**
   * Light at the fiber tip now, µW, without meter effects: the sum over lit
   * LEDs (or only `channel`'s LED) of the world's power at the current each is
   * driven with, at the world's temperature now.
   */
  truthUw(channel?: number): number {
    const d = this.device;
    const world = d.world;
    const currents = d.ledCurrentsNow();
    const temperatureC = world.temperatureC?.(d.worldTimeS);
    let total = 0;
    d.board.leds.forEach((led, k) => {
      if (channel !== undefined && led.id !== channel) return;
      const ma = currents[k]!;
      if (ma > 0) total += world.ledPowerUw!(k, ma, temperatureC);
    });
    if (channel !== undefined && !d.board.leds.some((l) => l.id === channel)) {
      throw new SimError('E_SIM_OPTIONS', `no LED channel ${channel} on this board`, `board LEDs: ${d.board.leds.map((l) => l.id).join(', ')}`);
    }
    return total;
  }

  /** One reading, µW: the lagged level (first-order response to the light since the last reading), times gain, plus noise. */
  readUw(): number {
    const now = this.device.worldTimeS;
    const target = this.truthUw();
    if (this.level === null || this.tauS === 0) {
      this.level = target;
    } else {
      const dt = Math.max(0, now - this.levelAtS);
      this.level = target + (this.level - target) * Math.exp(-dt / this.tauS);
    }
    this.levelAtS = now;
    const sd = Math.hypot(this.relativeNoise * this.level, this.noiseUw);
    return this.gain * this.level + sd * this.normal();
  }

  private normal(): number {
    const u = 1 - this.rng.next();
    const v = this.rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

const meters = new WeakMap<SimDevice, SimPowerMeter>();

/** The power meter at a device's fiber tip (one per device, created on first use with `options`). */
export function simPowerMeterOf(device: SimDevice, options?: SimPowerMeterOptions): SimPowerMeter {
  let m = meters.get(device);
  if (!m) {
    m = new SimPowerMeter(device, options);
    meters.set(device, m);
  }
  return m;
}
