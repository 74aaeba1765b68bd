/**
 * What producers call to audit something: the audit stage for calls, and the integrator for what
 * does not pass the pipeline (admin API changes, server-to-client requests, findings outside a
 * call). Recording never throws: a failure is counted and logged, and the caller carries on.
 */
import type { Logger } from '../log.ts';
import type { CallSession, Decision, Finding } from '../guard/pipeline.ts';
import type { AuditLog } from './audit-log.ts';
import type { AuditEvent, AuditFace, AuditOutcome } from './audit-record.ts';
import { auditDecision } from './call-event.ts';

/** Log the first failure and then every this many. */
const LOG_EVERY = 1_000;

export type AdminChange = {
  /** The tenant the change affects (its admins see it), or the actor's own for platform changes. */
  readonly tenant: string;
  /** The actor's subject. */
  readonly principal: string;
  /** What was done, e.g. `tenant.update`, `key.revoke`, `tool-change.approve`. */
  readonly action: string;
  /** What it was done to, e.g. `tenants/acme`. */
  readonly resource?: string;
  /** The request body; digested, and kept (redacted) only when the log keeps arguments. */
  readonly body?: unknown;
  readonly outcome: AuditOutcome;
  readonly face?: Extract<AuditFace, 'admin-api' | 'admin-mcp'>;
  readonly latencyMs?: number;
  readonly traceId?: string;
  readonly at?: number;
};

export type ServerRequest = {
  readonly session: CallSession;
  readonly server: string;
  /** `sampling/createMessage`, `elicitation/create`, `roots/list`. */
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** `ok`, `client-error` when the client answered with an error, or the gateway's code. */
  readonly outcome: AuditOutcome;
  readonly latencyMs?: number;
  readonly decision?: Decision;
  readonly findings?: readonly Finding[];
  readonly traceId?: string;
};

/** Findings made outside any client call, e.g. a tool description scanned when a server starts. */
export type GatewayFinding = {
  readonly tenant: string;
  readonly server: string;
  readonly tool?: string;
  /** What was being looked at, e.g. `tools/list`. */
  readonly method: string;
  readonly findings: readonly Finding[];
};

export class AuditRecorder {
  readonly #log: Pick<AuditLog, 'append'>;
  readonly #logger: Logger;
  #failures = 0;
  #refused = 0;

  constructor(log: Pick<AuditLog, 'append'>, options: { readonly log: Logger }) {
    this.#log = log;
    this.#logger = options.log;
  }

  /** Appends an event, or the one `build` returns; never throws. */
  record(event: AuditEvent | (() => AuditEvent)): void {
    try {
      if (!this.#log.append(typeof event === 'function' ? event() : event)) this.#refused++;
    } catch (error) {
      this.#failures++;
      if (this.#failures === 1 || this.#failures % LOG_EVERY === 0) {
        this.#logger.error({ err: error, failures: this.#failures }, 'audit: could not record');
      }
    }
  }

  adminChange(change: AdminChange): void {
    this.record({
      kind: 'admin-change',
      ...(change.at === undefined ? {} : { at: change.at }),
      tenant: change.tenant,
      principal: change.principal,
      face: change.face ?? 'admin-api',
      method: change.action,
      ...(change.resource === undefined ? {} : { resource: change.resource }),
      ...(change.body === undefined ? {} : { args: change.body }),
      outcome: change.outcome,
      ...(change.latencyMs === undefined ? {} : { latencyMs: change.latencyMs }),
      ...(change.traceId === undefined ? {} : { traceId: change.traceId }),
    });
  }

  serverRequest(request: ServerRequest): void {
    const { session } = request;
    const { _meta, ...params } = request.params;
    this.record({
      kind: 'server-request',
      tenant: session.principal.tenantId,
      principal: session.principal.subject,
      session: session.key,
      face: session.face,
      method: request.method,
      server: request.server,
      ...(request.decision === undefined ? {} : { decision: auditDecision(request.decision) }),
      findings: request.findings ?? [],
      args: params,
      outcome: request.outcome,
      ...(request.latencyMs === undefined ? {} : { latencyMs: request.latencyMs }),
      ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
    });
  }

  finding(finding: GatewayFinding): void {
    this.record({
      kind: 'guard-finding',
      tenant: finding.tenant,
      principal: 'gateway',
      face: 'gateway',
      method: finding.method,
      server: finding.server,
      ...(finding.tool === undefined ? {} : { tool: finding.tool }),
      findings: finding.findings,
      outcome: 'ok',
    });
  }

  /** Events that could not be recorded (the log threw), and those the full backlog dropped. */
  stats(): { readonly failures: number; readonly dropped: number } {
    return { failures: this.#failures, dropped: this.#refused };
  }
}
