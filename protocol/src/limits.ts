// Wire limits. The same numbers bound the C firmware's buffers (fiberrig.options).

/** Largest protobuf-encoded Envelope either side may send. */
export const MAX_MESSAGE_BYTES = 4352;

/** CRC-32C trailer appended to each encoded message before COBS. */
export const CRC_BYTES = 4;

/** Frame delimiter. */
export const FRAME_DELIMITER = 0x00;

/** Worst-case COBS output for `n` input bytes (one code byte per 254 data bytes, plus the first). */
export function cobsMaxEncodedBytes(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

/** Largest frame on the wire, excluding the 0x00 delimiter. */
export const MAX_FRAME_BYTES = cobsMaxEncodedBytes(MAX_MESSAGE_BYTES + CRC_BYTES);

/**
 * AcquisitionConfig.heartbeat_timeout_ms every device accepts (0 on the wire = the device's default, itself in
 * range). The C firmware's HEARTBEAT_MIN_MS/MAX_MS (core/fr_validate.c) are the same numbers.
 */
export const HEARTBEAT_TIMEOUT_RANGE_MS = Object.freeze({ min: 100, max: 60_000 });

/** AcquisitionConfig.status_interval_ms every device accepts (0 = device default); fr_validate.c STATUS_MIN_MS/MAX_MS. */
export const STATUS_INTERVAL_RANGE_MS = Object.freeze({ min: 50, max: 60_000 });
