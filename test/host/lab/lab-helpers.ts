// Shared by the lab tests: commands over request/reply, waiting, and the byte-for-byte
// comparison of each agent's local raw logs with the archive's copies.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ArchivedSession } from '../../../host/lab/archive-files.ts';
import { commandSubject } from '../../../host/lab/layout.ts';

export async function command(nc: NatsConnection, rig: string, body: unknown, timeoutMs = 10_000): Promise<Record<string, any>> {
  const reply = await nc.request(commandSubject(rig), JSON.stringify(body), { timeout: timeoutMs });
  return JSON.parse(reply.string()) as Record<string, any>;
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sessions (directories with a raw log) of an agent's DIR. */
export function localSessions(agentDir: string): string[] {
  return readdirSync(agentDir).filter((s) => existsSync(join(agentDir, s, 'raw.fjl'))).sort();
}

export function archived(archiveDir: string, rig: string, session: string): boolean {
  return existsSync(join(archiveDir, rig, session, 'archived.json'));
}

/** Every local session of the rig is archived and its archive copy is byte-identical. */
export function expectArchivedIdentical(agentDir: string, archiveDir: string, rig: string): number {
  const sessions = localSessions(agentDir);
  assert.ok(sessions.length > 0, `${rig} recorded nothing`);
  for (const s of sessions) {
    assert.ok(archived(archiveDir, rig, s), `${rig}/${s} archived`);
    const local = readFileSync(join(agentDir, s, 'raw.fjl'));
    const copy = readFileSync(join(archiveDir, rig, s, 'raw.fjl'));
    assert.equal(copy.length, local.length, `${rig}/${s} size`);
    assert.ok(copy.equals(local), `${rig}/${s} bytes`);
  }
  return sessions.length;
}

export function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

export function readArchived(archiveDir: string, rig: string, session: string): ArchivedSession | undefined {
  const p = join(archiveDir, rig, session, 'archived.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as ArchivedSession : undefined;
}
