// Runs sequences against the C firmware built for the host (the `native` and
// `native-pyboard` conformance builds), in its --lockstep mode: link bytes
// and clock advances go in as records on stdin, the device's bytes come back
// as records on stdout, and the clock moves only when told (whole
// milliseconds, polled every millisecond). One process serves many sequences:
// a power-cycle record between them erases NV and restarts the core at time 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Pair } from './boards.ts';
import type { Sequence } from './generate.ts';
import { collector, type Transcript } from './sim.ts';
import { MissingTool } from '../conformance/target.ts';

function record(tag: string, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = tag.charCodeAt(0);
  new DataView(out.buffer).setUint32(1, payload.length, true);
  out.set(payload, 5);
  return out;
}

function advanceRecord(ms: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, ms, true);
  return record('A', p);
}

export class LockstepFirmware {
  private readonly child: ChildProcess;
  private stderr = '';
  private buffer: Buffer = Buffer.alloc(0);
  private onRecord: ((tag: number, payload: Buffer) => void) | null = null;
  private failure: Error | null = null;
  private onFailure: ((e: Error) => void) | null = null;

  private constructor(readonly pair: Pair) {
    this.child = spawn(pair.binary, ['--lockstep'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (t: string) => {
      this.stderr = (this.stderr + t).slice(-4000);
    });
    this.child.stdin!.on('error', () => undefined);
    this.child.stdout!.on('data', (chunk: Buffer) => this.take(chunk));
    this.child.once('exit', (code, signal) => {
      const e = new Error(`${pair.binary} --lockstep exited (code ${code}, signal ${signal}): ${this.stderr.trim().slice(-1500)}`);
      this.failure = e;
      this.onFailure?.(e);
    });
  }

  /** Starts the build of `pair`; MissingTool when it is not built. */
  static start(pair: Pair): LockstepFirmware {
    if (!existsSync(pair.binary)) throw new MissingTool(`${pair.binary} is not built: run \`npm run firmware:build\``);
    return new LockstepFirmware(pair);
  }

  private take(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let at = 0;
    while (this.buffer.length - at >= 5) {
      const len = this.buffer.readUInt32LE(at + 1);
      if (this.buffer.length - at < 5 + len) break;
      this.onRecord?.(this.buffer[at]!, this.buffer.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    this.buffer = this.buffer.subarray(at);
  }

  /** Runs every sequence (each from power-on) and returns their transcripts, in order. */
  run(sequences: readonly Sequence[]): Promise<Transcript[]> {
    if (this.failure) return Promise.reject(this.failure);
    const parts: Uint8Array[] = [];
    // records per sequence: the power cycle, then one per step; each answered by one 'K'
    const expected: number[] = [];
    for (const s of sequences) {
      parts.push(record('P'));
      for (const step of s.steps) {
        if (step.kind === 'send') parts.push(record('L', step.bytes));
        else if (step.kind === 'link') parts.push(record('S', Uint8Array.of(step.up ? 0 : 1)));
        else parts.push(advanceRecord(step.ms));
      }
      expected.push(1 + s.steps.length);
    }
    return new Promise((resolve, reject) => {
      const out: Transcript[] = [];
      let seq = 0;
      let acks = 0;
      let current = collector();
      const finishSequence = (): void => {
        const r = current.decoder.counters.rejected;
        current.transcript.badFrames += r.crc + r.cobs + r.oversize;
        out.push(current.transcript);
        current = collector();
      };
      this.onFailure = reject;
      this.onRecord = (tag, payload) => {
        if (tag === 0x4c /* L */) {
          // (the process's own power-on Log, before the first 'P', lands in the first transcript: Logs are not compared)
          current.decoder.push(Uint8Array.from(payload));
          return;
        }
        if (tag !== 0x4b /* K */) return;
        acks++;
        if (acks === expected[seq]) {
          finishSequence();
          seq++;
          acks = 0;
          if (seq === sequences.length) {
            this.onRecord = null;
            this.onFailure = null;
            resolve(out);
          }
        }
      };
      this.child.stdin!.write(Buffer.concat(parts));
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
