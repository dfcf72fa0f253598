// Commands to one rig or a selected group. The agent's start command has no start instant, so
// a group is started by sending every rig its start at the same moment (no await between the
// sends): each rig starts when its agent has it, within the broker's delivery time of the
// others. An offline rig is refused here, without a send; every refusal comes back per rig.
import type { CommandReply, FleetCommand, FleetSource } from './fleet-source.ts';
import type { RigResult } from './messages.ts';

export interface GroupCommandResult {
  /** When the commands were sent (all of them). */
  sentIso: string;
  results: RigResult[];
}

export async function sendGroup(
  source: FleetSource,
  commands: readonly { rig: string; command: FleetCommand }[],
  isOnline: (rig: string) => boolean,
): Promise<GroupCommandResult> {
  const sentMs = Date.now();
  const pending = commands.map(({ rig, command }) => {
    if (!isOnline(rig)) {
      return Promise.resolve<RigResult>({
        rig, ok: false, replyMs: 0,
        error: { code: 'E_LAB_OFFLINE', message: `rig ${rig} is offline: nothing sent`, hint: 'start its agent (fiberrig agent), or deselect it' },
      });
    }
    return source.send(rig, command).then((reply) => result(rig, reply, Date.now() - sentMs));
  });
  return { sentIso: new Date(sentMs).toISOString(), results: await Promise.all(pending) };
}

function result(rig: string, reply: CommandReply, replyMs: number): RigResult {
  if (!reply.ok) return { rig, ok: false, error: reply.error, replyMs };
  const session = typeof reply['session'] === 'string' ? reply['session'] : null;
  return { rig, ok: true, session, replyMs };
}
