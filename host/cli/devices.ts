// The CLI's composition root for devices: the simulator plugs in through the
// same serialport binding seam as real hardware (sim:// URLs).
import { checkSimUrl, SimBinding } from '../../firmware-sim/simulator.ts';
import { registerBinding } from '../transport/open.ts';

registerBinding('sim', SimBinding, checkSimUrl);
