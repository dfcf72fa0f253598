// `fiberrig ports`: serial ports the OS can enumerate. Listing needs udev on
// Linux; where it is missing, say so and let the user name the path.
import { SerialPort } from 'serialport';
import { TransportError } from './errors.ts';

export interface PortListing {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

export async function listSerialPorts(): Promise<PortListing[]> {
  let ports: Awaited<ReturnType<typeof SerialPort.list>>;
  try {
    ports = await SerialPort.list();
  } catch (cause) {
    throw new TransportError(
      'E_PORT_LIST_UNAVAILABLE',
      `this system cannot list serial ports (${(cause as Error).message.split('\n')[0]})`,
      'name the port directly, e.g. --device /dev/ttyACM0 (on Linux, listing needs udev/udevadm)',
      { cause },
    );
  }
  return ports.map((p) => ({
    path: p.path,
    ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
    ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
    ...(p.vendorId ? { vendorId: p.vendorId } : {}),
    ...(p.productId ? { productId: p.productId } : {}),
  }));
}
