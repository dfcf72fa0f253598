// Opens any device URL as a byte stream. Serial ports and registered
// serialport bindings (the simulator's sim://) go through the same
// SerialPortStream code path; tcp:// uses a socket.
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPortStream } from '@serialport/stream';
import { SerialPort } from 'serialport';
import { TransportError } from './errors.ts';

/** serialport's binding contract (@serialport/bindings-interface), as SerialPortStream takes it. */
export type BindingInterface = ConstructorParameters<typeof SerialPortStream>[0]['binding'];
import { parseDeviceUrl } from './url.ts';

export interface Transport {
  readonly url: string;
  /** Bytes from the device (readable) and to it (writable). Emits 'close' when the device goes away. */
  readonly stream: Duplex;
  close(): Promise<void>;
}

const bindings = new Map<string, BindingInterface>();
const urlChecks = new Map<string, (url: string) => void>();

/**
 * Makes `scheme://…` URLs open through `binding` (e.g. the simulator registers sim://). `checkUrl`, when given,
 * refuses a URL the binding could never open (a typed error with its own hint) before anything is opened.
 */
export function registerBinding(scheme: string, binding: BindingInterface, checkUrl?: (url: string) => void): void {
  bindings.set(scheme.toLowerCase(), binding);
  if (checkUrl) urlChecks.set(scheme.toLowerCase(), checkUrl);
  else urlChecks.delete(scheme.toLowerCase());
}

/** The hint of a typed error from a binding (it knows what is wrong better than "is it plugged in?"). */
function hintOf(error: unknown): string | undefined {
  const hint = (error as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}

function openPortStream(port: SerialPortStream, url: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    port.open((error) => {
      if (error) {
        const hint = hintOf(error);
        const message = hint && error.message.endsWith(` — ${hint}`) ? error.message.slice(0, -(hint.length + 3)) : error.message;
        reject(new TransportError('E_OPEN', `cannot open ${url}: ${message}`, hint ?? 'check the path, that the device is plugged in, and that no other program holds it', { cause: error }));
        return;
      }
      resolve({
        url,
        stream: port,
        close: () => new Promise<void>((done) => {
          if (!port.isOpen) { done(); return; }
          port.close(() => done());
        }),
      });
    });
  });
}

/** Checks `url` names a device this host can open (syntax, known scheme) without opening anything. */
export function checkDeviceUrl(url: string): void {
  const parsed = parseDeviceUrl(url);
  if (parsed.kind === 'binding' && !bindings.has(parsed.scheme)) {
    throw new TransportError('E_DEVICE_URL', `no device driver for ${parsed.scheme}://`, `known schemes: ${['tcp', ...bindings.keys()].join(', ')}, or a serial path such as /dev/ttyACM0`);
  }
  if (parsed.kind === 'binding') urlChecks.get(parsed.scheme)?.(parsed.url);
}

export async function openTransport(url: string): Promise<Transport> {
  const parsed = parseDeviceUrl(url);
  switch (parsed.kind) {
    case 'serial': {
      const port = new SerialPort({ path: parsed.path, baudRate: parsed.baudRate, autoOpen: false });
      return openPortStream(port, url);
    }
    case 'binding': {
      const binding = bindings.get(parsed.scheme);
      if (!binding) {
        throw new TransportError('E_DEVICE_URL', `no device driver for ${parsed.scheme}://`, `known schemes: ${['tcp', ...bindings.keys()].join(', ')}, or a serial path such as /dev/ttyACM0`);
      }
      const port = new SerialPortStream({ binding, path: parsed.url, baudRate: 115200, autoOpen: false });
      return openPortStream(port, url);
    }
    case 'tcp': {
      return new Promise((resolve, reject) => {
        const socket = connect({ host: parsed.host, port: parsed.port });
        socket.setNoDelay(true);
        socket.once('error', (error) => reject(new TransportError('E_OPEN', `cannot connect to ${url}: ${error.message}`, 'check that the simulator or emulator is listening there', { cause: error })));
        socket.once('connect', () => {
          socket.removeAllListeners('error');
          socket.on('error', () => socket.destroy());
          resolve({
            url,
            stream: socket,
            close: () => new Promise<void>((done) => {
              if (socket.destroyed) { done(); return; }
              socket.once('close', () => done());
              socket.end();
              setTimeout(() => socket.destroy(), 200).unref();
            }),
          });
        });
      });
    }
  }
}
