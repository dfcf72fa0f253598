// The live view's recorder (`fiberrig view`'s Record button and `view --out`): each
// recording is a Recorder (host/record/recorder.ts) borrowing the view's open Rig — the
// same code, files and summary as `fiberrig acquire`. While it records, the Recorder owns
// the acquisition (Stop, Configure, Start); when it ends, viewing goes on (the device is
// started again, not recording).
import type { Observable } from 'rxjs';
import type { AcquisitionFile } from '../config/acquisition.ts';
import type { SignalBlock } from '../pipeline/demodulate.ts';
import { Recorder, type RecorderContext, type RecorderOptions, type RecordingResult } from '../record/recorder.ts';
import type { Rig } from '../rig/rig.ts';
import { LiveError } from './errors.ts';
import type { LiveRecording } from './server.ts';

export interface LiveRecorderOptions {
  rig: Rig;
  file: AcquisitionFile;
  /** Device time per recording, seconds; Infinity records until stopped. */
  durationS: number;
  /** The directory of a recording started now for `subject`. */
  outDirFor: (subject: string | null) => string;
  notes?: string | null;
  derivedOutputs?: RecorderOptions['derivedOutputs'];
  /** Each recording's Recorder, before it runs (to print its events). */
  onRecorder?: (recorder: Recorder) => void;
  /** Each recording's end (its summary, and its error when it failed). */
  onFinished?: (result: RecordingResult) => void;
  /** Start the device again when a recording ends, so the view keeps showing data (default true). */
  resumeViewing?: boolean;
  /**
   * Receives each recording's shared demodulated signals before its Configure, and undefined when it
   * ended (before viewing resumes): the view shows the recording's demodulation instead of running a
   * second one (`LiveServer.useSignals`).
   */
  showSignals?: (signals: Observable<SignalBlock> | undefined) => void;
}

export class LiveRecorder implements LiveRecording {
  private current: Recorder | undefined;
  private currentSubject: string | null = null;
  private finishedValue: Promise<RecordingResult | undefined> = Promise.resolve(undefined);

  constructor(private readonly options: LiveRecorderOptions) {}

  get isRecording(): boolean {
    return this.current !== undefined;
  }

  get subject(): string | null {
    return this.current ? this.currentSubject : null;
  }

  get target(): string | null {
    return this.current?.outDir ?? null;
  }

  /** The latest recording's end (undefined when none ran, or it failed before its device started). */
  get finished(): Promise<RecordingResult | undefined> {
    return this.finishedValue;
  }

  /** Starts a recording; resolves once the device runs for it, rejects when it could not start (nothing is then left on disk). */
  async start(subject: string | null, outDir?: string): Promise<void> {
    if (this.current) throw new LiveError('E_LIVE_RECORDING', `already recording to ${this.current.outDir}`, 'stop the recording first');
    const o = this.options;
    const recorder = new Recorder({
      device: o.rig, file: o.file, durationS: o.durationS, outDir: outDir ?? o.outDirFor(subject), subject, notes: o.notes ?? null,
      ...(o.derivedOutputs ? { derivedOutputs: o.derivedOutputs } : {}),
      ...(o.showSignals ? { beforeConfigure: ({ signals$ }: RecorderContext) => o.showSignals!(signals$) } : {}),
    });
    this.current = recorder;
    this.currentSubject = subject;
    o.onRecorder?.(recorder);
    const started = new Promise<void>((resolve) => {
      recorder.events$.subscribe((e) => { if (e.type === 'started') resolve(); });
    });
    const run = recorder.run().finally(async () => {
      this.current = undefined;
      o.showSignals?.(undefined);
      if (o.resumeViewing !== false && !o.rig.running) await o.rig.start().catch(() => undefined);
    });
    this.finishedValue = run.then((result) => { o.onFinished?.(result); return result; }, () => undefined);
    await Promise.race([started, run.then(() => undefined)]);
  }

  /** Stops the recording (stoppedBy "user", or the reason given) and waits for its files. */
  async stop(by: 'user' | 'signal' = 'user'): Promise<void> {
    const recorder = this.current;
    if (!recorder) return;
    recorder.stop(by);
    await this.finishedValue;
  }
}
