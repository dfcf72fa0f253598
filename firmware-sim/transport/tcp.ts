// The simulator on a TCP port (for clients in any language, and the same
// transport as firmware under QEMU). One client at a time: a second client is
// refused (its socket is closed at once). A client disconnect stops nothing on
// the device - like unplugging a cable: it keeps acquiring, its ring buffer
// overruns, and the heartbeat watchdog darkens the LEDs. A `disconnect` fault
// drops the client and refuses new ones until the outage is over.
import { createServer, type Socket } from 'node:net';
import { SimError } from '../device/errors.ts';
import { DeviceStreamBridge } from './bridge.ts';
import { servedDevice, type SimServeOptions, type SimServer } from './serve.ts';

export interface SimTcpServer extends SimServer {
  readonly host: string;
  readonly port: number;
  /** tcp://HOST:PORT, as the host's device URLs spell it. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections refused (another client connected, or a disconnect fault). */
  readonly refused: number;
}

export async function serveSimOnTcp(host: string, port: number, options: SimServeOptions = {}): Promise<SimTcpServer> {
  const { device, pacer } = servedDevice(options);
  const bridge = new DeviceStreamBridge(device, pacer);
  let client: Socket | null = null;
  let accepted = 0;
  let refused = 0;
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (client || device.disconnected) {
      refused++;
      socket.destroy();
      return;
    }
    accepted++;
    client = socket;
    socket.setNoDelay(true);
    bridge.attach(socket);
    socket.on('close', () => {
      if (client !== socket) return;
      client = null;
      bridge.detach();
    });
  });
  const dropClient = (): void => {
    const c = client;
    client = null;
    bridge.detach();
    c?.destroy();
  };
  device.events.on('disconnect', dropClient);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new SimError('E_SIM_TCP', `cannot listen on ${host}:${port}: ${error.message}`, 'pick another port (0 = any free port)', { cause: error })));
    server.listen(port, host, () => resolve());
  });
  server.on('error', () => undefined);
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  pacer.start();

  let closed: Promise<void> | null = null;
  return {
    device,
    pacer,
    host,
    port: boundPort,
    url: `tcp://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        pacer.stop();
        device.leaveSyncBus();
        device.events.off('disconnect', dropClient);
        dropClient();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
