/**
 * The `authorize` stage: the policy decision for every tools/call, prompts/get, resources/read
 * and resources/subscribe, and the same decision, per item, on the lists.
 *
 * It runs after the route stage, which sets `call.target` (the server and the bare name or
 * URI). Without a target it fails closed: a misassembled pipeline refuses, it does not allow.
 *
 * What a client sees of a denial (in enforce mode):
 * - by a tenant default, or by a rule without a `reason`: nothing of the policy, just the
 *   error a call to an item that does not exist gets (UNKNOWN_TOOL, UNKNOWN_PROMPT or
 *   UNKNOWN_RESOURCE: the router's very code and message). Lists leave such items out, so a
 *   denied tool cannot be told from an unknown one;
 * - by a rule with a `reason`: POLICY_DENIED with the reason as its message. A reason is for a
 *   rule that refuses some calls to an item the client may otherwise see and use (an argument
 *   constraint), where "unknown tool" would be false and unhelpful. Writing one is the policy
 *   author's choice to reveal that the rule exists.
 *
 * Lists are decided per item, as a call to that item with no arguments would be
 * ({@link PolicySet.listed}); the list methods themselves are not decided.
 *
 * A dry-run deny lets the call through; the decision, recorded in `call.notes.decision` on
 * every call, says `mode: 'dry-run'`, and audit records that it would have been denied.
 */
import type { ErrorCode } from '../errors.ts';
import { GatewayError } from '../errors.ts';
import type { PolicyInput } from './policy/policy-input.ts';
import type { PolicySet } from './policy/policy-set.ts';
import { refusal, type Call, type CallTarget, type Next, type Reply, type Stage } from './pipeline.ts';

/** What the pipeline does not carry itself, for the policy input; looked up once per call. */
export type CallFacts = {
  readonly tier: string;
  readonly project?: string;
  readonly role?: string;
  readonly usage: PolicyInput['usage'];
  readonly anomaly: PolicyInput['anomaly'];
};

/** The kinds of item a list holds. */
export type ListedKind = 'tool' | 'prompt' | 'resource' | 'resourceTemplate';

export type AuthorizeStageOptions = {
  /** The policies in force, read per call, so a reload's swap applies from the next call on. */
  readonly policies: () => PolicySet;
  readonly facts: (call: Call) => CallFacts;
  /**
   * The server a listed item comes from and its bare name (for resources, its URI or URI
   * template), given the name as listed (`server__tool` when name-spaced, `owner.server__tool`
   * when shared by a grant) or the URI, for the list's call (whose session decides what its
   * names mean). An item it cannot place is left out of the list.
   */
  readonly owner: (
    kind: ListedKind,
    listed: string,
    call: Call,
  ) => { server: string; name: string } | undefined;
  readonly now?: () => Date;
};

type Decided = {
  readonly method: string;
  readonly field: 'tool' | 'prompt' | 'resource';
  readonly unknown: ErrorCode;
};

const CALLS: Readonly<Record<string, Decided>> = {
  'tools/call': { method: 'tools/call', field: 'tool', unknown: 'UNKNOWN_TOOL' },
  'prompts/get': { method: 'prompts/get', field: 'prompt', unknown: 'UNKNOWN_PROMPT' },
  'resources/read': { method: 'resources/read', field: 'resource', unknown: 'UNKNOWN_RESOURCE' },
  'resources/subscribe': { method: 'resources/subscribe', field: 'resource', unknown: 'UNKNOWN_RESOURCE' },
};

type Listing = { readonly key: string; readonly kind: ListedKind; readonly id: string; readonly as: Decided };

const LISTS: Readonly<Record<string, Listing>> = {
  'tools/list': { key: 'tools', kind: 'tool', id: 'name', as: CALLS['tools/call'] as Decided },
  'prompts/list': { key: 'prompts', kind: 'prompt', id: 'name', as: CALLS['prompts/get'] as Decided },
  'resources/list': { key: 'resources', kind: 'resource', id: 'uri', as: CALLS['resources/read'] as Decided },
  'resources/templates/list': {
    key: 'resourceTemplates',
    kind: 'resourceTemplate',
    id: 'uriTemplate',
    as: CALLS['resources/read'] as Decided,
  },
};

/** The `authorize` stage. */
export function authorizeStage(options: AuthorizeStageOptions): Stage {
  const now = options.now ?? (() => new Date());
  return {
    name: 'authorize',
    async handle(call: Call, next: Next): Promise<Reply> {
      const decided = CALLS[call.method];
      if (decided !== undefined) return authorizeCall(call, next, decided);
      const listing = LISTS[call.method];
      if (listing !== undefined) return filterList(call, next, listing);
      return next(call);
    },
  };

  async function authorizeCall(call: Call, next: Next, decided: Decided): Promise<Reply> {
    const item = call.target && targetItem(call.target, decided);
    if (call.target === undefined || item === undefined) {
      throw new GatewayError('INTERNAL', 'the authorize stage needs call.target: route before authorize', {
        detail: { method: call.method },
      });
    }
    const policies = options.policies();
    const decision =
      policies.decidedByDefault(call.session.principal.tenantId) ??
      policies.decide(
        policyInput(call, options.facts(call), now(), decided, call.target.server, item, callArguments(call)),
      );
    call.notes.decision = decision;
    if (decision.effect === 'allow' || decision.mode === 'dry-run') return next(call);
    return decision.reason === undefined
      ? refusal(decided.unknown)
      : refusal('POLICY_DENIED', decision.reason);
  }

  async function filterList(call: Call, next: Next, listing: Listing): Promise<Reply> {
    const reply = await next(call);
    if (!('result' in reply)) return reply;
    const items = reply.result[listing.key];
    if (!Array.isArray(items)) return reply;
    const policies = options.policies();
    // No rules: every item the tenant default decides alike, without an input per item.
    const byDefault = policies.listedByDefault(call.session.principal.tenantId);
    const facts = byDefault === undefined ? options.facts(call) : undefined;
    const time = now();
    const visible = items.filter((item: unknown) => {
      const listed = (item as Record<string, unknown> | null)?.[listing.id];
      const owner = typeof listed === 'string' ? options.owner(listing.kind, listed, call) : undefined;
      if (owner === undefined) return false;
      if (facts === undefined) return byDefault === true;
      return policies.listed(policyInput(call, facts, time, listing.as, owner.server, owner.name, {}));
    });
    return visible.length === items.length ? reply : { result: { ...reply.result, [listing.key]: visible } };
  }
}

function targetItem(target: CallTarget, decided: Decided): string | undefined {
  if (decided.field === 'tool') return target.tool;
  if (decided.field === 'prompt') return target.prompt;
  return target.uri;
}

function callArguments(call: Call): Record<string, unknown> {
  return call.method === 'tools/call' || call.method === 'prompts/get' ? argumentsOf(call.params) : {};
}

function argumentsOf(params: Record<string, unknown>): Record<string, unknown> {
  const args = params.arguments;
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : {};
}

function policyInput(
  call: Call,
  facts: CallFacts,
  time: Date,
  decided: Decided,
  server: string,
  item: string,
  args: Record<string, unknown>,
): PolicyInput {
  const { principal, face } = call.session;
  return {
    principal: {
      subject: principal.subject,
      ...(facts.role === undefined ? {} : { role: facts.role }),
      via: principal.via,
      scopes: principal.scopes,
    },
    tenant: { id: principal.tenantId, tier: facts.tier },
    ...(facts.project === undefined ? {} : { project: facts.project }),
    server,
    method: decided.method,
    [decided.field]: item,
    args,
    request: { time, face },
    usage: facts.usage,
    anomaly: facts.anomaly,
  };
}
