// Simulated ports for mocha tests: the SimPorts of the sim:// binding host
// opens (SimBinding.ports), reset after each test (or after the suite), so no
// device outlives the test that made it and no test finds another's device.
//
//   const ports = useSimPorts();                 // inside describe()
//   it('…', async () => {
//     const { device } = ports.createPort(URL);  // the device the next open of URL attaches to
//     const rig = await Rig.connect(URL);
//     ...
//   });
import { SimBinding } from '../../firmware-sim/transport/binding.ts';
import type { SimPorts } from '../../firmware-sim/transport/sim-ports.ts';

/**
 * Registers hooks in the current describe() that reset the sim:// ports
 * after each test ('test', the default) or after the suite ('suite': for
 * suites whose tests share a device, e.g. one with persist=1). Returns the ports.
 */
export function useSimPorts(scope: 'test' | 'suite' = 'test'): SimPorts {
  const ports = SimBinding.ports;
  if (scope === 'test') afterEach(() => ports.reset());
  else after(() => ports.reset());
  return ports;
}
