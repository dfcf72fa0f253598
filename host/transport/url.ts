// Device URLs: one string names any device the host can open.
//   /dev/ttyACM0, COM3, /dev/ttyUSB0?baud=921600   a serial port
//   sim://sleep?seed=1&speed=10                     a serialport binding registered for the scheme
//   tcp://127.0.0.1:7000                            a TCP socket (simulator, firmware under QEMU)
import { TransportError } from './errors.ts';

export type DeviceUrl =
  | { kind: 'serial'; url: string; path: string; baudRate: number }
  | { kind: 'binding'; url: string; scheme: string }
  | { kind: 'tcp'; url: string; host: string; port: number };

export const DEFAULT_BAUD_RATE = 115200;

export function parseDeviceUrl(url: string): DeviceUrl {
  const trimmed = url.trim();
  if (trimmed === '') throw new TransportError('E_DEVICE_URL', 'no device given', 'pass --device with a serial path (/dev/ttyACM0), sim://SCENARIO or tcp://HOST:PORT');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === 'tcp') {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch (cause) {
      throw new TransportError('E_DEVICE_URL', `cannot parse ${trimmed}`, 'write tcp://HOST:PORT, e.g. tcp://127.0.0.1:7000', { cause });
    }
    const port = Number(parsed.port);
    if (!parsed.hostname || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new TransportError('E_DEVICE_URL', `${trimmed} has no valid host and port`, 'write tcp://HOST:PORT, e.g. tcp://127.0.0.1:7000');
    }
    return { kind: 'tcp', url: trimmed, host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (scheme && scheme !== 'file') return { kind: 'binding', url: trimmed, scheme };
  const [path, query = ''] = trimmed.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  const baud = params.get('baud');
  let baudRate = DEFAULT_BAUD_RATE;
  if (baud !== null) {
    baudRate = Number(baud);
    // no UART runs above 100 Mbaud; a larger number would wrap in the driver's 32-bit speed field
    if (!Number.isInteger(baudRate) || baudRate <= 0 || baudRate > 100_000_000) {
      throw new TransportError('E_DEVICE_URL', `bad baud rate "${baud}" in ${trimmed}`, 'use ?baud= with an integer 1..100000000, e.g. ?baud=921600');
    }
  }
  for (const key of params.keys()) {
    if (key !== 'baud') throw new TransportError('E_DEVICE_URL', `unknown option "${key}" in ${trimmed}`, 'serial paths accept only ?baud=');
  }
  return { kind: 'serial', url: trimmed, path, baudRate };
}
