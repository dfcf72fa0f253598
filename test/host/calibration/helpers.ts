// Test support for calibration: captured CLI output, a socat pty pair, and a
// small SCPI power-meter responder on one end of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { ReadlineParser, SerialPort } from 'serialport';
import type { CliIo } from '../../../host/cli/main.ts';

export function captureIo(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable => new Writable({
    write(chunk, _enc, done) {
      append(String(chunk));
      done();
    },
  });
  return { io: { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }) }, out: () => out, err: () => err };
}

export interface PtyPair {
  /** The end the code under test opens. */
  a: string;
  /** The end the fake instrument holds. */
  b: string;
  close(): Promise<void>;
}

/** Two linked ptys made by socat, as symlinks `a` and `b`. close() ends socat (by its pid) and waits for it. */
export function socatPair(a: string, b: string): Promise<PtyPair> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`socat did not start: ${log}`));
    }, 5000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      if (/starting data transfer loop/.test(log)) {
        clearTimeout(timer);
        resolve({
          a, b,
          close: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}

export interface ScpiResponder {
  /** Every command line received. */
  readonly received: string[];
  wavelengthNm: number;
  close(): Promise<void>;
}

/** A SCPI power meter on `path`: *IDN?, *CLS, SENS:CORR:WAV[?], MEAS:POW? (watts from `readWatts`). */
export async function scpiResponder(path: string, readWatts: () => number, idn = 'FiberrigTest,PM-SIM100,SN0042,1.0'): Promise<ScpiResponder> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const state: ScpiResponder = {
    received: [],
    wavelengthNm: 0,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
  const reply = (line: string): void => {
    port.write(`${line}\r\n`);
  };
  port.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (raw: string) => {
    const line = raw.trim();
    state.received.push(line);
    const upper = line.toUpperCase();
    if (upper === '*IDN?') reply(idn);
    else if (upper === 'MEAS:POW?') reply(readWatts().toExponential(6));
    else if (upper === 'SENS:CORR:WAV?') reply(String(state.wavelengthNm));
    else if (upper.startsWith('SENS:CORR:WAV ')) state.wavelengthNm = Number(line.slice('SENS:CORR:WAV '.length));
    // *CLS and anything else: no reply
  });
  return state;
}
