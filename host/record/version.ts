// Software versions stored with every recording.
import { readFileSync } from 'node:fs';
import { formatVersion, PROTOCOL_VERSION } from '../../protocol/index.ts';

function readPackageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** fiberrig's version, from package.json. */
export const FIBERRIG_VERSION: string = readPackageVersion();

export interface SoftwareVersions {
  fiberrig: string;
  protocol: string;
  node: string;
  platform: string;
}

export function softwareVersions(): SoftwareVersions {
  return { fiberrig: FIBERRIG_VERSION, protocol: formatVersion(PROTOCOL_VERSION), node: process.version, platform: `${process.platform}-${process.arch}` };
}
