// `fiberrig loopback`: a Hello goes out through COBS + CRC framing, a
// responder on the other side of an in-memory duplex decodes it and answers
// with a DeviceInfo, which is deframed, decoded and version-checked here.
import { PassThrough } from 'node:stream';
import {
  assertCompatibleVersion, EnvelopeDecoderStream, type Envelope, formatVersion, frameEnvelope, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES,
  ModulationMode, PROTOCOL_VERSION,
} from '../../../protocol/index.ts';
import type { Command } from 'commander';
import type { CliIo, Runner } from '../main.ts';

export async function loopbackCommand(io: CliIo, opts: { json: boolean }): Promise<number> {
  const toDevice = new PassThrough();
  const toHost = new PassThrough();
  const deviceRx = toDevice.pipe(new EnvelopeDecoderStream());
  deviceRx.on('data', (m: Envelope) => {
    if (m.body !== 'hello') return;
    toHost.write(frameEnvelope({
      requestId: m.requestId,
      deviceInfo: {
        protocol: { ...PROTOCOL_VERSION },
        firmwareName: 'fiberrig-loopback',
        firmwareVersion: '0.1.0',
        boardModel: 'loopback',
        maxFrameBytes: MAX_FRAME_BYTES,
        maxMessageBytes: MAX_MESSAGE_BYTES,
        modes: [ModulationMode.MODULATION_MODE_CONTINUOUS],
      },
    }));
  });
  const hostRx = toHost.pipe(new EnvelopeDecoderStream());
  const reply = new Promise<Envelope>((resolve) => hostRx.once('data', resolve));
  const hello = frameEnvelope({ requestId: 1, hello: { protocol: { ...PROTOCOL_VERSION }, hostName: 'fiberrig loopback' } });
  toDevice.write(hello);
  const answer = await reply;
  const info = answer.deviceInfo!;
  assertCompatibleVersion(info.protocol);
  const summary = {
    requestId: answer.requestId,
    firmware: `${info.firmwareName} ${info.firmwareVersion}`,
    protocol: formatVersion(info.protocol!),
    board: info.boardModel,
    helloFrameBytes: hello.length,
    replyFrameBytes: hostRx.counters.bytesIn,
    framesRejected: hostRx.counters.rejected,
  };
  io.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `loopback handshake ok: ${summary.firmware}, protocol ${summary.protocol}, board ${summary.board} (${summary.helloFrameBytes} B out, ${summary.replyFrameBytes} B back)\n`);
  return 0;
}

export function define(command: Command, io: CliIo, run: Runner): void {
  command
    .option('--json', 'print JSON on stdout')
    .action((opts: { json?: boolean }) => run(() => loopbackCommand(io, { json: Boolean(opts.json) }))());
}
