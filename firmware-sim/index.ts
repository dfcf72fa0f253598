// fiberrig firmware simulator: the simulated firmware (device/), its
// transports (transport/: a serialport binding for sim://, a pty, TCP), and
// the seam to the simulated world (world/world.ts).
export * from './device/board.ts';
export * from './device/bounds.ts';
export * from './device/calibration.ts';
export * from './device/create.ts';
export * from './device/device.ts';
export * from './device/errors.ts';
export * from './device/faults.ts';
export * from './device/hardware-faults.ts';
export * from './device/issue.ts';
export * from './device/linear-world.ts';
export * from './device/link.ts';
export * from './device/nv.ts';
export * from './device/power-meter.ts';
export * from './device/schedule.ts';
export * from './device/validate.ts';
export * from './transport/binding.ts';
export * from './transport/bridge.ts';
export * from './transport/pacer.ts';
export * from './transport/pty.ts';
export * from './transport/serve.ts';
export * from './transport/sim-ports.ts';
export * from './transport/sim-url.ts';
export * from './transport/tcp.ts';
export * from './transport/worker-port.ts';
export type * from './world/world.ts';
export * from './transport/serialport-types.ts';
