// Protocol version and the handshake rule: majors must match.
import { ProtocolError } from './errors.ts';

export interface ProtocolVersionLike {
  major: number;
  minor: number;
}

/** The version this code speaks. Bump minor for additive changes, major for breaking ones. */
export const PROTOCOL_VERSION: Readonly<ProtocolVersionLike> = Object.freeze({ major: 1, minor: 2 });

export function formatVersion(v: ProtocolVersionLike): string {
  return `${v.major}.${v.minor}`;
}

/**
 * Throws VERSION_MISMATCH unless `device` has the same major version as
 * `host`. A newer or older minor is accepted: minors only add.
 */
export function assertCompatibleVersion(device: ProtocolVersionLike | null | undefined, host: ProtocolVersionLike = PROTOCOL_VERSION): void {
  if (!device || device.major !== host.major) {
    const seen = device ? formatVersion(device) : 'none';
    throw new ProtocolError(
      'E_VERSION_MISMATCH',
      `device speaks fiberrig protocol ${seen}, this host speaks ${formatVersion(host)}`,
      device && device.major > host.major ? 'update fiberrig on the host' : 'flash firmware built for this fiberrig version (fiberrig flash)',
    );
  }
}
