// Configures the protobufjs runtime before the generated code loads: 64-bit
// integers decode as plain numbers (sample indices stay far below 2^53;
// a Long object per block would cost time and surprise every reader).
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();

export const protobufRuntime = $protobuf;
