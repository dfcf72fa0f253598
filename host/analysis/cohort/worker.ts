// The animals of one cohort lane, in a worker thread (started by run.ts) that takes jobs one at a time
// by message: record an animal (a simulated device through the whole host path — the Recorder
// `fiberrig acquire sim://SCENARIO?seed=S&speed=max` uses, with its analysis input, default
// configuration with EEG/EMG aux; the signal tables signals.csv and aux.csv only when the job asks for
// them) or take an existing recording, analyse it with analyzeRecording, and post back its per-animal
// figures and the CPU time of each stage (this thread's, and the raw log's I/O thread's). The thread
// stays up for the lane's next animal (module loading and JIT are paid once per lane). Nothing is
// carried from one animal to the next: every job builds its own Recorder and analysis; what stays at
// module level is read-only (scenario documents, the sim:// binding) or a cache of pure results (the
// lock-in kernel's tables). Nothing is printed.
import { resolve } from 'node:path';
import { parentPort } from 'node:worker_threads';
import '../../cli/devices.ts'; // registers the simulator's sim:// binding, as the CLI does
import { DEFAULT_LOCKIN_CONFIG } from '../../config/acquisition.ts';
import { Recorder } from '../../record/recorder.ts';
import { threadCpuS } from '../../thread-cpu.js';
import { readSession, resolveRecording } from '../../record/session.ts';
import { analyzeRecording } from '../analyze/analyze.ts';
import { analysisInputOutputs } from '../input-file.ts';
import { animalFigures, seedOfDeviceUrl } from './compare.ts';
import type { AnimalJob, AnimalReply } from './run.ts';

const port = parentPort!;

/** Runs `stage` and returns its result with this thread's CPU seconds over it (null off Linux). */
async function timed<T>(stage: () => Promise<T>): Promise<{ value: T; cpuS: number | null }> {
  const cpu0 = threadCpuS();
  const value = await stage();
  const cpu1 = threadCpuS();
  return { value, cpuS: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null };
}

async function runJob(job: AnimalJob): Promise<AnimalReply> {
  let recording = job.recording;
  let seed: number | null = null;
  let recordCpuS: number | null = null;
  let rawLogCpuS: number | null = null;
  if (job.kind === 'simulate') {
    const device = `sim://${job.scenario}?seed=${job.seed}&speed=max`;
    port.postMessage({ kind: 'stage', stage: 'recording' } satisfies AnimalReply);
    const recorder = new Recorder({
      device, file: DEFAULT_LOCKIN_CONFIG, durationS: job.durationS, outDir: resolve(recording), derivedOutputs: analysisInputOutputs,
      signalTables: job.signalTables ?? false,
    });
    const recorded = await timed(() => recorder.run());
    if (recorded.value.error) throw recorded.value.error;
    recordCpuS = recorded.cpuS;
    rawLogCpuS = recorded.value.rawLogIoCpuS ?? null;
    seed = job.seed;
  } else {
    recording = (await resolveRecording(recording)).dir;
    seed = seedOfDeviceUrl((await readSession(recording))?.device.url);
  }
  port.postMessage({ kind: 'stage', stage: 'analysing' } satisfies AnimalReply);
  const analysed = await timed(() => analyzeRecording(recording, job.analyze ?? {}));
  return { kind: 'done', recording, seed, recordCpuS, rawLogCpuS, analyseCpuS: analysed.cpuS, ...animalFigures(analysed.value) };
}

port.on('message', (job: AnimalJob) => {
  runJob(job).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      const code = 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : 'E_COHORT_ANIMAL_FAILED';
      port.postMessage({ kind: 'failed', code, message: e.message } satisfies AnimalReply);
    },
  );
});
