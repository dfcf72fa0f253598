// One animal of a cohort, in a worker thread (started by run.ts): record it (a simulated device
// through the whole host path — the Recorder `fiberrig acquire sim://SCENARIO?seed=S&speed=max` uses,
// with its analysis input, default configuration with EEG/EMG aux) or take an existing recording, analyse it with
// analyzeRecording, and post back its per-animal figures. Nothing is printed.
import { resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import '../../cli/devices.ts'; // registers the simulator's sim:// binding, as the CLI does
import { DEFAULT_LOCKIN_CONFIG } from '../../config/acquisition.ts';
import { Recorder } from '../../record/recorder.ts';
import { readSession, resolveRecording } from '../../record/session.ts';
import { analyzeRecording } from '../analyze/analyze.ts';
import { analysisInputOutputs } from '../input-file.ts';
import { animalFigures, seedOfDeviceUrl } from './compare.ts';
import type { AnimalJob, AnimalReply } from './run.ts';

const job = workerData as AnimalJob;
const port = parentPort!;

async function runJob(): Promise<AnimalReply> {
  let recording = job.recording;
  let seed: number | null = null;
  if (job.kind === 'simulate') {
    const device = `sim://${job.scenario}?seed=${job.seed}&speed=max`;
    port.postMessage({ kind: 'stage', stage: 'recording' } satisfies AnimalReply);
    const recorder = new Recorder({ device, file: DEFAULT_LOCKIN_CONFIG, durationS: job.durationS, outDir: resolve(recording), derivedOutputs: analysisInputOutputs });
    const { error } = await recorder.run();
    if (error) throw error;
    seed = job.seed;
  } else {
    recording = (await resolveRecording(recording)).dir;
    seed = seedOfDeviceUrl((await readSession(recording))?.device.url);
  }
  port.postMessage({ kind: 'stage', stage: 'analysing' } satisfies AnimalReply);
  const analysis = await analyzeRecording(recording, job.analyze ?? {});
  return { kind: 'done', recording, seed, ...animalFigures(analysis) };
}

runJob().then(
  (reply) => port.postMessage(reply),
  (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    const code = 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : 'E_COHORT_ANIMAL_FAILED';
    port.postMessage({ kind: 'failed', code, message: e.message } satisfies AnimalReply);
  },
);
