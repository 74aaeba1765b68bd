/**
 * The `shared-use` stage: after a call routed to a server shared by a grant got a result, it
 * reports the use (the gateway records it in the admin change log). It sits right after `route`,
 * so a call that authorize or a guard refused is no use of the grant.
 */
import type { SharedGrant } from '../router/server-route.ts';
import { contextOf } from './call-context.ts';
import type { Call, Next, Reply, Stage } from './pipeline.ts';

export type SharedUse = (grant: SharedGrant, server: string, call: Call) => void;

export function sharedUseStage(onUse: SharedUse): Stage {
  return {
    name: 'shared-use',
    async handle(call: Call, next: Next): Promise<Reply> {
      const reply = await next(call);
      const route = contextOf(call).route;
      if (route?.grant !== undefined && 'result' in reply) onUse(route.grant, route.server.name, call);
      return reply;
    },
  };
}
