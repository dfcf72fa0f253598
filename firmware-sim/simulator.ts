// The simulator as the rest of fiberrig uses it: the simulated firmware
// measuring the simulated world. Importing this module makes every
// simulated device (sim://, pty, TCP) measure the full world model
// (scenarios sleep, zolpidem, steps, dark, and the noise-free "linear").
import { registerWorldFactory } from './device/create.ts';
import { SimBinding } from './transport/binding.ts';
import { createWorld } from './world/index.ts';

registerWorldFactory(createWorld);

export { SimBinding };
export { serveSimOnPty } from './transport/pty.ts';
export { serveSimOnTcp } from './transport/tcp.ts';
export { simServeOptionsFromUrl } from './transport/serve.ts';
export { getSimPort, onSimPortOpen, forgetSimPort } from './transport/binding.ts';
export { SimPowerMeter, simPowerMeterOf, type SimPowerMeterOptions } from './device/power-meter.ts';
