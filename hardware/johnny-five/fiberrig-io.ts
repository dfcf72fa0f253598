// One unit: the IO-plugin contract johnny-five calls is one class by the plugin spec.
// FiberrigIO: a johnny-five IO plugin for a fiberrig device (real board,
// firmware target, or the simulator), following the IO-plugin spec
// (github.com/rwaldron/io-plugins):
//
//   const board = new five.Board({ io: new FiberrigIO({ device: 'sim://steps' }), repl: false, debug: false, sigint: false });
//
// Pins are built from the device's DeviceInfo once it has answered Hello:
//
//   index                what                         modes           name
//   0 .. A-1             detectors, then aux inputs   INPUT, ANALOG   A0.., and PD0/EEG/... (the device labels)
//   A .. A+L-1           LED channels                 OUTPUT, PWM     LED0.. (by channel id)
//   then                 digital lines                INPUT | OUTPUT  TTL0, SYNC, ... (the device labels)
//
// Analog pins come first so that a pin's index equals its analog channel:
// analogRead(0), analogRead('A0') and the `analog-read-0` event all mean the
// first detector, as in firmata.js.
//
// The device acquires continuously from 'ready' on (CONTINUOUS mode, every
// detector, every aux input, every digital input), so:
// - analogRead: one report per sample block, the block's mean (raw ADC codes;
//   aux codes are offset by half scale so 0 µV reads mid-scale and every value
//   is >= 0). Default 1000 S/s in blocks of 10 samples: 100 reports/s.
//   RESOLUTION.ADC is the widest analog input's full-scale code.
// - analogWrite/pwmWrite(LED pin, 0..255): LED current as that fraction of the
//   channel's continuous limit (SetLed); digitalWrite(LED pin, 1|0): full or off.
// - digitalRead: the current level once, then one report per edge (DigitalEvents).
// - digitalWrite(output line, 1|0): the device's sync output is a pulse
//   generator, not a GPIO: HIGH starts its pulse train (options.syncPulse),
//   LOW stops it. Each change restarts the acquisition (Stop, Configure,
//   Start), which the sample stream records as a new segment.
// Writes are queued in order; a newer write to the same pin replaces one not
// yet sent (an LED blinking faster than the link is coalesced, never reordered).
// IO the board does not have (servo, I2C, serial, stepper, sysex, ping) throws,
// as the spec asks of essential features; non-essential calls
// (setSamplingInterval, pull-up requests, queryPinState) succeed, callbacks asynchronously.
import { EventEmitter } from 'node:events';
import type { Subscription } from 'rxjs';
import { type AcquisitionConfigInit, DigitalDirection, Edge, ModulationMode } from '../../protocol/index.ts';
import { type AcquisitionItem, Rig, type RigOptions, type TimedDigitalEvent } from '../../host/rig/rig.ts';
import { FiberrigIOError } from './errors.ts';

/** The IO-plugin pin modes (frozen, as the spec requires). */
export const MODES = Object.freeze({ INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 } as const);

export type PinKind = 'detector' | 'aux' | 'led' | 'digital-in' | 'digital-out';

export interface FiberrigPin {
  supportedModes: number[];
  mode: number;
  /** Last value read (inputs) or written (outputs). */
  value: number;
  report: 0 | 1;
  /** Analog channel (= pin index for analog pins), 127 for none. */
  analogChannel: number;
  /** Name normalize() accepts, e.g. "LED1", "PD0", "SYNC". */
  name: string;
  kind: PinKind;
  /** The detector, aux input, LED channel or digital line id on the device. */
  deviceId: number;
  /** Human description, e.g. "470 nm, 50 mA max". */
  label: string;
}

export interface FiberrigIOOptions {
  /** Device URL: a serial path (/dev/ttyACM0), tcp://HOST:PORT, or sim://SCENARIO when the simulator is registered. */
  device: string;
  /** Options for Rig.connect (e.g. openTransport). */
  rigOptions?: RigOptions;
  /** Detector sample rate, Hz. Default: min(1000, the device's maximum). */
  sampleRateHz?: number;
  /** Analog reports per second (one per block). Default 100; at least 50 is recommended (the spec asks for a report every 19 ms). */
  reportHz?: number;
  /** Stream the aux inputs (EEG/EMG) too. Default true. */
  aux?: boolean;
  /** What digitalWrite(SYNC, HIGH) starts: a pulse of pulseMs every periodMs. Default 10 ms every 100 ms. */
  syncPulse?: { periodMs: number; pulseMs: number };
}

type Handler = (value: number) => void;

const NO_ANALOG_CHANNEL = 127;
const UNSUPPORTED_HINT = 'a fiberrig board has LEDs (PWM/OUTPUT), analog inputs (detectors, aux), digital inputs and a sync output';

export class FiberrigIO extends EventEmitter {
  readonly name = 'FiberrigIO';
  readonly HIGH = 1;
  readonly LOW = 0;
  /** ADC is the widest analog input's full-scale code; PWM writes are 8-bit. Set when ready. */
  RESOLUTION: { ADC: number; PWM: number; DAC: null } = { ADC: 65535, PWM: 255, DAC: null };
  /** Pin address of the first LED (johnny-five's `new Led()` without a pin). Set when ready. */
  defaultLed: number | undefined;
  /** The Rig behind the plugin (for anything johnny-five has no word for). Set at 'connect'. */
  rig: Rig | undefined;

  private readonly pinList: FiberrigPin[] = [];
  private readonly analogPinList: number[] = [];
  private ready = false;
  private closed = false;
  private readonly analogHandlers = new Map<number, Handler[]>();
  private readonly digitalHandlers = new Map<number, Array<{ handler: Handler | undefined; reported: boolean }>>();
  private readonly detectorPin = new Map<number, number>();
  private readonly auxPin = new Map<number, number>();
  private readonly auxOffset = new Map<number, number>();
  private readonly linePin = new Map<number, number>();
  private readonly ledCurrentMa = new Map<number, number>();
  private syncOn = false;
  private config: AcquisitionConfigInit | undefined;
  private readonly queue = new Map<string, () => Promise<void>>();
  private draining: Promise<void> | undefined;
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly options: FiberrigIOOptions) {
    super();
    if (!options || typeof options.device !== 'string' || options.device.trim() === '') {
      throw new FiberrigIOError('E_IO_OPTIONS', 'FiberrigIO needs a device URL', "pass { device: '/dev/ttyACM0' }, { device: 'tcp://127.0.0.1:7000' } or { device: 'sim://steps' }");
    }
    setImmediate(() => {
      this.connect().catch((error: unknown) => this.fail(error));
    });
  }

  get MODES(): typeof MODES {
    return MODES;
  }

  /** Pin configuration objects, index = pin address (empty until ready). */
  get pins(): FiberrigPin[] {
    return this.pinList;
  }

  /** Pin addresses of the analog inputs, index = analog channel (A0, A1, ...). */
  get analogPins(): number[] {
    return this.analogPinList;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Writes queued or in flight (johnny-five waits for 0 before exiting on SIGINT). */
  get pending(): number {
    return this.queue.size + (this.draining ? 1 : 0);
  }

  /** Maps "A0", a pin name ("LED1", "PD0", "SYNC", case-insensitive) or a pin number to a pin address. */
  normalize(pin: number | string): number {
    if (typeof pin === 'number') {
      if (Number.isInteger(pin) && pin >= 0 && pin < this.pinList.length) return pin;
    } else if (typeof pin === 'string') {
      const text = pin.trim();
      if (/^\d+$/.test(text)) return this.normalize(Number(text));
      const analog = /^A(\d+)$/i.exec(text);
      if (analog) {
        const address = this.analogPinList[Number(analog[1])];
        if (address !== undefined) return address;
      }
      const byName = this.pinList.findIndex((p) => p.name.toUpperCase() === text.toUpperCase());
      if (byName >= 0) return byName;
    }
    throw new FiberrigIOError('E_IO_PIN', `no pin ${JSON.stringify(pin)} on this board`, `pins: ${this.pinList.map((p, i) => `${i}=${p.name}`).join(', ') || '(none yet: wait for "ready")'}`);
  }

  pinMode(pin: number | string, mode: number): this {
    const address = this.normalize(pin);
    const p = this.pinList[address]!;
    const wanted = mode === MODES.INPUT && p.supportedModes.includes(MODES.ANALOG) ? MODES.ANALOG : mode;
    if (!p.supportedModes.includes(wanted)) {
      throw new FiberrigIOError('E_IO_MODE', `pin ${address} (${p.name}) does not support mode ${mode}`, `its modes: ${p.supportedModes.join(', ')} (INPUT 0, OUTPUT 1, ANALOG 2, PWM 3)`);
    }
    p.mode = wanted;
    return this;
  }

  /** LED drive: value 0..255 as a fraction of the channel's continuous current limit. */
  analogWrite(pin: number | string, value: number): this {
    const address = this.normalize(pin);
    const p = this.pinList[address]!;
    if (p.kind !== 'led') throw new FiberrigIOError('E_IO_MODE', `pin ${address} (${p.name}) is not PWM-capable`, 'analogWrite drives LED pins (LED0, LED1, ...)');
    if (!Number.isFinite(value)) throw new FiberrigIOError('E_IO_VALUE', `analogWrite value ${value} is not a number`, 'write 0..255');
    const level = Math.min(255, Math.max(0, value));
    p.value = level;
    const led = this.rig!.info.leds.find((l) => l.id === p.deviceId)!;
    const currentMa = (level / 255) * led.maxCurrentContinuousMa;
    this.ledCurrentMa.set(p.deviceId, currentMa);
    this.enqueue(`led${p.deviceId}`, async () => {
      await this.rig!.setLed(p.deviceId, { currentMa: this.ledCurrentMa.get(p.deviceId) ?? 0 });
    });
    return this;
  }

  pwmWrite(pin: number | string, value: number): this {
    return this.analogWrite(pin, value);
  }

  digitalWrite(pin: number | string, value: number): this {
    const address = this.normalize(pin);
    const p = this.pinList[address]!;
    const high = value ? 1 : 0;
    switch (p.kind) {
      case 'led':
        return this.analogWrite(address, high ? 255 : 0);
      case 'digital-out':
        p.value = high;
        if (this.syncOn === Boolean(high)) return this;
        this.syncOn = Boolean(high);
        this.enqueue('sync', () => this.restart());
        return this;
      case 'digital-in':
        // johnny-five asks for a pull-up/pull-down this way: the inputs have fixed terminations (non-essential: accepted)
        return this;
      default:
        throw new FiberrigIOError('E_IO_MODE', `pin ${address} (${p.name}) is an analog input`, 'digitalWrite drives LED pins and the sync output');
    }
  }

  /** Reports the pin's analog value (raw codes) once per sample block, on `handler` and on `analog-read-N`. */
  analogRead(pin: number | string, handler?: Handler): this {
    const address = this.normalize(pin);
    const p = this.pinList[address]!;
    if (p.kind !== 'detector' && p.kind !== 'aux') {
      throw new FiberrigIOError('E_IO_MODE', `pin ${address} (${p.name}) is not an analog input`, `analog inputs: ${this.analogPinList.map((a) => this.pinList[a]!.name).join(', ')}`);
    }
    p.mode = MODES.ANALOG;
    p.report = 1;
    if (handler) this.analogHandlers.set(address, [...(this.analogHandlers.get(address) ?? []), handler]);
    return this;
  }

  /** Reports the line's level now (asynchronously), then on every change, on `handler` and on `digital-read-N`. */
  digitalRead(pin: number | string, handler?: Handler): this {
    const address = this.normalize(pin);
    const p = this.pinList[address]!;
    if (p.kind !== 'digital-in') {
      throw new FiberrigIOError('E_IO_MODE', `pin ${address} (${p.name}) is not a digital input`, `digital inputs: ${this.pinList.filter((q) => q.kind === 'digital-in').map((q) => q.name).join(', ')}`);
    }
    p.report = 1;
    const entry = { handler, reported: false };
    this.digitalHandlers.set(address, [...(this.digitalHandlers.get(address) ?? []), entry]);
    setImmediate(() => {
      // the level now, unless a change already reported it
      if (this.closed || entry.reported) return;
      entry.reported = true;
      handler?.(p.value);
      this.emit(`digital-read-${address}`, p.value);
    });
    return this;
  }

  reportAnalogPin(pin: number | string, value: 0 | 1): this {
    const p = this.pinList[this.normalize(pin)]!;
    p.report = value ? 1 : 0;
    return this;
  }

  reportDigitalPin(pin: number | string, value: 0 | 1): this {
    return this.reportAnalogPin(pin, value);
  }

  /** Non-essential: the report rate is fixed by the block size (options.reportHz). */
  setSamplingInterval(_ms: number): this {
    return this;
  }

  queryPinState(pin: number | string, callback?: (state: FiberrigPin) => void): this {
    const p = this.pinList[this.normalize(pin)]!;
    setImmediate(() => callback?.(p));
    return this;
  }

  /** Resolves when every queued write has reached the device. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Finishes queued writes, stops the acquisition (LEDs dark) and closes the device. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    for (const s of this.subscriptions) s.unsubscribe();
    await this.rig?.close();
    this.emit('close');
  }

  // IO this board does not have: essential features, so they throw (spec).
  servoWrite(): never { return unsupported('servoWrite', 'servo'); }
  servoConfig(): never { return unsupported('servoConfig', 'servo'); }
  i2cConfig(): never { return unsupported('i2cConfig', 'I2C'); }
  i2cWrite(): never { return unsupported('i2cWrite', 'I2C'); }
  i2cWriteReg(): never { return unsupported('i2cWriteReg', 'I2C'); }
  i2cRead(): never { return unsupported('i2cRead', 'I2C'); }
  i2cReadOnce(): never { return unsupported('i2cReadOnce', 'I2C'); }
  serialConfig(): never { return unsupported('serialConfig', 'serial (UART)'); }
  serialWrite(): never { return unsupported('serialWrite', 'serial (UART)'); }
  serialRead(): never { return unsupported('serialRead', 'serial (UART)'); }
  stepperConfig(): never { return unsupported('stepperConfig', 'stepper'); }
  stepperStep(): never { return unsupported('stepperStep', 'stepper'); }
  pingRead(): never { return unsupported('pingRead', 'ping (ultrasonic)'); }
  sysexCommand(): never { return unsupported('sysexCommand', 'Firmata sysex'); }

  // ------------------------------------------------------------ internals

  private async connect(): Promise<void> {
    const rig = await Rig.connect(this.options.device, this.options.rigOptions ?? {});
    this.rig = rig;
    if (this.closed) {
      await rig.close();
      return;
    }
    this.emit('connect');
    this.buildPins();
    this.config = this.buildConfig();
    this.subscriptions.push(
      rig.acquisition$.subscribe({ next: (item) => this.onItem(item), error: (error: unknown) => this.fail(error) }),
      rig.digitalEvents$.subscribe((event) => this.onDigital(event)),
    );
    await rig.configure(this.config);
    await rig.start();
    if (this.closed) return;
    this.ready = true;
    this.emit('ready');
  }

  private buildPins(): void {
    const info = this.rig!.info;
    const add = (pin: Omit<FiberrigPin, 'value' | 'report'>): number => {
      this.pinList.push({ ...pin, value: 0, report: 0 });
      return this.pinList.length - 1;
    };
    let adcMax = 0;
    for (const d of info.detectors) {
      const address = add({ supportedModes: [MODES.INPUT, MODES.ANALOG], mode: MODES.ANALOG, analogChannel: this.analogPinList.length, name: d.label || `PD${d.id}`, kind: 'detector', deviceId: d.id, label: `detector ${d.id}, ${d.adcBits}-bit, ${d.fullScaleV} V full scale` });
      this.analogPinList.push(address);
      this.detectorPin.set(d.id, address);
      adcMax = Math.max(adcMax, 2 ** d.adcBits - 1);
    }
    if (this.options.aux !== false) {
      for (const a of info.auxInputs) {
        const address = add({ supportedModes: [MODES.INPUT, MODES.ANALOG], mode: MODES.ANALOG, analogChannel: this.analogPinList.length, name: a.label || `AUX${a.id}`, kind: 'aux', deviceId: a.id, label: `aux ${a.id}, ${a.adcBits}-bit bipolar, mid-scale = 0 V` });
        this.analogPinList.push(address);
        this.auxPin.set(a.id, address);
        this.auxOffset.set(a.id, 2 ** (a.adcBits - 1));
        adcMax = Math.max(adcMax, 2 ** a.adcBits - 1);
      }
    }
    for (const l of info.leds) {
      const address = add({ supportedModes: [MODES.OUTPUT, MODES.PWM], mode: MODES.PWM, analogChannel: NO_ANALOG_CHANNEL, name: `LED${l.id}`, kind: 'led', deviceId: l.id, label: `${l.wavelengthNm} nm, ${l.maxCurrentContinuousMa} mA max` });
      this.defaultLed ??= address;
      this.ledCurrentMa.set(l.id, 0);
    }
    for (const line of info.digitalLines) {
      const output = line.direction === DigitalDirection.DIGITAL_DIRECTION_OUTPUT;
      const address = add({
        supportedModes: [output ? MODES.OUTPUT : MODES.INPUT], mode: output ? MODES.OUTPUT : MODES.INPUT, analogChannel: NO_ANALOG_CHANNEL,
        name: line.label || `D${line.id}`, kind: output ? 'digital-out' : 'digital-in', deviceId: line.id, label: `digital line ${line.id} (${output ? 'sync output' : 'input'})`,
      });
      this.linePin.set(line.id, address);
    }
    this.RESOLUTION = { ADC: adcMax || 65535, PWM: 255, DAC: null };
  }

  private buildConfig(): AcquisitionConfigInit {
    const info = this.rig!.info;
    if (info.detectors.length === 0) throw new FiberrigIOError('E_IO_DEVICE', `${this.options.device} reports no detectors`, 'is this a fiberrig photometry board?');
    if (!info.modes.includes(ModulationMode.MODULATION_MODE_CONTINUOUS)) {
      throw new FiberrigIOError('E_IO_DEVICE', `${this.options.device} does not offer CONTINUOUS mode`, 'the plugin drives LEDs at constant levels; use the Rig API for other modes');
    }
    const maxRateHz = Math.min(info.maxSampleRateHz || 1000, ...info.detectors.map((d) => d.maxRateHz || Number.POSITIVE_INFINITY));
    const rateHz = this.options.sampleRateHz ?? Math.min(1000, maxRateHz);
    const reportHz = this.options.reportHz ?? 100;
    if (!(reportHz > 0 && reportHz <= rateHz)) throw new FiberrigIOError('E_IO_OPTIONS', `reportHz ${reportHz} must be in (0, sampleRateHz ${rateHz}]`, 'e.g. reportHz: 100');
    const blockSamples = Math.max(1, Math.min(info.maxBlockSamples || 1024, Math.round(rateHz / reportHz)));
    const auxIds = [...this.auxPin.keys()];
    const auxMaxHz = Math.min(...info.auxInputs.filter((a) => this.auxPin.has(a.id)).map((a) => a.maxRateHz || rateHz));
    let divider = 1;
    while (rateHz / divider > auxMaxHz || rateHz % divider !== 0) divider++;
    const lines = info.digitalLines;
    const inputs = lines.filter((l) => l.direction === DigitalDirection.DIGITAL_DIRECTION_INPUT).map((l) => l.id);
    const syncLine = lines.find((l) => l.direction === DigitalDirection.DIGITAL_DIRECTION_OUTPUT);
    const pulse = this.options.syncPulse ?? { periodMs: 100, pulseMs: 10 };
    const periodSamples = Math.max(2, Math.round((pulse.periodMs / 1000) * rateHz));
    const pulseSamples = Math.min(periodSamples - 1, Math.max(1, Math.round((pulse.pulseMs / 1000) * rateHz)));
    return {
      mode: ModulationMode.MODULATION_MODE_CONTINUOUS,
      sampleRateHz: rateHz,
      leds: info.leds.map((l) => ({ channel: l.id, currentMa: this.ledCurrentMa.get(l.id) ?? 0 })),
      detectorIds: info.detectors.map((d) => d.id),
      oversampling: 1,
      ...(auxIds.length > 0 ? { aux: { inputIds: auxIds, rateHz: rateHz / divider } } : {}),
      digitalInputIds: inputs,
      ...(this.syncOn && syncLine ? { syncOut: { enabled: true, line: syncLine.id, periodSamples, pulseSamples } } : {}),
      blockSamples,
    };
  }

  /** Stop, reconfigure (sync output, current LED levels) and start again. */
  private async restart(): Promise<void> {
    const rig = this.rig!;
    await rig.stop();
    this.config = this.buildConfig();
    await rig.configure(this.config);
    await rig.start();
  }

  private onItem(item: AcquisitionItem): void {
    if (item.kind !== 'block' || this.closed) return;
    const n = item.channelIds.length;
    const count = item.sampleCount;
    if (n === 0 || count === 0) return;
    const pins = item.source === 'detector' ? this.detectorPin : this.auxPin;
    for (let c = 0; c < n; c++) {
      const id = item.channelIds[c]!;
      const address = pins.get(id);
      if (address === undefined) continue;
      let sum = 0;
      for (let i = 0; i < count; i++) sum += item.samples[i * n + c]!;
      const value = Math.round(sum / count) + (item.source === 'aux' ? (this.auxOffset.get(id) ?? 0) : 0);
      const p = this.pinList[address]!;
      p.value = value;
      if (!p.report) continue;
      for (const h of this.analogHandlers.get(address) ?? []) h(value);
      this.emit(`analog-read-${address}`, value);
    }
  }

  private onDigital(event: TimedDigitalEvent): void {
    const address = this.linePin.get(event.line);
    if (address === undefined || this.closed) return;
    const p = this.pinList[address]!;
    const value = event.edge === Edge.EDGE_RISING ? 1 : 0;
    if (p.value === value) return;
    p.value = value;
    if (!p.report) return;
    for (const entry of this.digitalHandlers.get(address) ?? []) {
      entry.reported = true;
      entry.handler?.(value);
    }
    this.emit(`digital-read-${address}`, value);
  }

  private enqueue(key: string, op: () => Promise<void>): void {
    if (this.closed) throw new FiberrigIOError('E_IO_CLOSED', 'the plugin is closed', 'create a new FiberrigIO');
    if (!this.ready) throw new FiberrigIOError('E_IO_NOT_READY', 'write before "ready"', 'wait for the board\'s "ready" event');
    this.queue.set(key, op);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0) {
      const [key, op] = this.queue.entries().next().value as [string, () => Promise<void>];
      this.queue.delete(key);
      try {
        await op();
      } catch (error) {
        this.fail(error);
      }
    }
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }
}

function unsupported(method: string, feature: string): never {
  throw new FiberrigIOError('E_IO_UNSUPPORTED', `${method}: a fiberrig board has no ${feature}`, UNSUPPORTED_HINT);
}
