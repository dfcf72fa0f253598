// A SCPI optical power meter on a serial port (a Thorlabs PM100-style console
// over its virtual COM port, or any meter speaking the same subset):
//
//   *CLS                    clear status (no reply)
//   *IDN?                   -> MANUFACTURER,MODEL,SERIAL,FIRMWARE
//   SENS:CORR:WAV <nm>      set the wavelength correction (no reply)
//   SENS:CORR:WAV?          -> the wavelength in nm
//   MEAS:POW?               -> one power reading in watts (e.g. 1.234E-05)
//
// Commands and replies end with a newline (a trailing CR is ignored). One
// query at a time; a query without a reply in time is an error.
import { ReadlineParser, SerialPort } from 'serialport';
import { CalibrationError } from './errors.ts';
import type { MeterInfo, PowerMeter } from './meters.ts';

export interface ScpiMeterOptions {
  baudRate?: number;
  /** Per query, ms. Default 3000. */
  timeoutMs?: number;
}

/** `scpi:PATH[?baud=N]` -> path and baud rate. */
export function parseScpiSpec(spec: string): { path: string; baudRate: number } {
  const m = /^scpi:(.+)$/i.exec(spec.trim());
  if (!m) throw new CalibrationError('E_METER', `"${spec}" is not scpi:PATH`, 'write --meter scpi:/dev/ttyUSB0 (or scpi:/dev/ttyACM0?baud=115200)');
  const [path, query = ''] = m[1]!.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  let baudRate = 115200;
  for (const [key, value] of params) {
    if (key !== 'baud') throw new CalibrationError('E_METER', `unknown option "${key}" in ${spec}`, 'scpi: paths accept only ?baud=');
    baudRate = Number(value);
    if (!(Number.isInteger(baudRate) && baudRate > 0)) throw new CalibrationError('E_METER', `bad baud rate "${value}" in ${spec}`, 'use ?baud= with a positive integer');
  }
  if (path === '') throw new CalibrationError('E_METER', `no path in ${spec}`, 'write --meter scpi:/dev/ttyUSB0');
  return { path, baudRate };
}

export class ScpiPowerMeter implements PowerMeter {
  private pending: { resolve: (line: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly port: SerialPort,
    readonly info: MeterInfo,
    private readonly timeoutMs: number,
  ) {}

  /** Opens the meter at `path`, clears it and asks who it is. */
  static async open(path: string, options: ScpiMeterOptions = {}): Promise<ScpiPowerMeter> {
    const baudRate = options.baudRate ?? 115200;
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => (error ? reject(new CalibrationError('E_METER_OPEN', `cannot open the power meter at ${path}: ${error.message}`, 'check the meter is plugged in and the path (ls /dev/ttyUSB* /dev/ttyACM*)', { cause: error })) : resolve()));
    });
    const info: MeterInfo = { kind: 'scpi', model: '', serialNumber: '', path };
    const meter = new ScpiPowerMeter(port, info, options.timeoutMs ?? 3000);
    const parser = port.pipe(new ReadlineParser({ delimiter: '\n' }));
    parser.on('data', (line: string) => meter.onLine(line.replace(/\r$/, '')));
    port.on('close', () => meter.onClose());
    try {
      await meter.send('*CLS');
      const idn = await meter.query('*IDN?');
      const [maker = '', model = '', serial = ''] = idn.split(',').map((s) => s.trim());
      if (!model) throw new CalibrationError('E_METER', `the meter at ${path} answered *IDN? with "${idn}"`, 'is this a SCPI power meter? check the baud rate');
      info.model = maker ? `${maker} ${model}` : model;
      info.serialNumber = serial;
    } catch (error) {
      await meter.close();
      throw error;
    }
    return meter;
  }

  async setWavelengthNm(nm: number): Promise<void> {
    await this.send(`SENS:CORR:WAV ${Math.round(nm)}`);
    const back = Number(await this.query('SENS:CORR:WAV?'));
    if (Math.abs(back - nm) > 1) throw new CalibrationError('E_METER', `the meter kept its wavelength at ${back} nm, ${nm} nm was asked`, 'set the meter wavelength by hand and use --meter manual');
    this.info.wavelengthNm = back;
  }

  async readUw(): Promise<number> {
    const text = await this.query('MEAS:POW?');
    const watts = Number(text);
    if (text.trim() === '' || !Number.isFinite(watts)) throw new CalibrationError('E_METER_READING', `the meter answered MEAS:POW? with "${text}"`, 'check the sensor is connected and not over range');
    return watts * 1e6;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
    this.onClose();
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (!p) return; // unsolicited: ignore
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(line);
  }

  private onClose(): void {
    const p = this.pending;
    this.pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(new CalibrationError('E_METER', 'the power meter port closed', 'check the meter cable'));
    }
  }

  private write(command: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(`${command}\n`, (error) => (error ? reject(new CalibrationError('E_METER', `cannot write to the meter: ${error.message}`, 'check the meter cable', { cause: error })) : resolve()));
    });
  }

  /** A command without a reply. */
  send(command: string): Promise<void> {
    const run = this.queue.then(() => this.write(command));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A query: resolves with its reply line. */
  query(command: string): Promise<string> {
    const run = this.queue.then(() => new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new CalibrationError('E_METER_TIMEOUT', `the meter did not answer ${command} within ${this.timeoutMs} ms`, 'check the meter is on, the path and the baud rate'));
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
      this.write(command).catch((e: Error) => {
        clearTimeout(timer);
        this.pending = null;
        reject(e);
      });
    }));
    this.queue = run.catch(() => undefined);
    return run;
  }
}
