// Blink each LED of a fiberrig rig with johnny-five and print what every
// detector sees, LED off and on. Put the fiber on a fluorescent reference
// first (or use the simulator's sim://steps):
//
//   node --import=tsx hardware/examples/blink-levels.ts [DEVICE_URL] [--on-ms 500] [--blinks 2]
//
// DEVICE_URL: a serial path (/dev/ttyACM0), tcp://HOST:PORT, or sim://steps (default).
import five from 'johnny-five';
import '../../host/cli/devices.ts'; // registers sim:// (the simulator) next to serial ports and tcp://
import { FiberrigIO } from '../johnny-five/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!(Number.isFinite(value) && value > 0)) {
    process.stderr.write(`blink-levels: ${name} needs a positive number\n`);
    process.exit(2);
  }
  return value;
};
const device = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'sim://steps';
const onMs = option('--on-ms', 500);
const blinks = option('--blinks', 2);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const io = new FiberrigIO({ device });
io.on('error', (error: Error) => {
  process.stderr.write(`blink-levels: ${error.message}\n`);
  process.exit(1);
});
const board = new five.Board({ io, repl: false, debug: false, sigint: false });

board.on('ready', async () => {
  const detectors = io.pins.filter((p) => p.kind === 'detector');
  const leds = io.pins.filter((p) => p.kind === 'led');
  const sensors = detectors.map((d) => new five.Sensor({ pin: d.name, freq: 25 }));
  const levels = (): string => detectors.map((d, i) => `${d.name} ${String(sensors[i]!.value).padStart(5)}`).join('  ');
  process.stdout.write(`${device}: ${leds.length} LEDs, detectors ${detectors.map((d) => d.name).join(', ')}\n`);
  for (const pin of leds) {
    const led = new five.Led(pin.name);
    for (let b = 0; b < blinks; b++) {
      led.off();
      await io.flush();
      await sleep(onMs / 2);
      const off = levels();
      led.on();
      await io.flush();
      await sleep(onMs);
      process.stdout.write(`${pin.name} (${pin.label})  off: ${off}   on: ${levels()}\n`);
    }
    led.off();
  }
  await io.close();
  process.exit(0);
});
