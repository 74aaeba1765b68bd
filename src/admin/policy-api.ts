/**
 * `/policy`: the rules the gateway decides with now, and a dry run: the decision one input would
 * get, with every rule's outcome, as `mcplane policy explain` prints it. Platform admins only:
 * the rules name every tenant.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import { PolicyInputFileSchema, toPolicyInput } from '../guard/policy/policy-input-file.ts';
import type { CompiledRule, Origin, RuleOutcome } from '../guard/policy/policy-rule.ts';
import { requirePlatform } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { PROBLEMS, jsonBody, jsonOf } from './admin-routes.ts';
import { problemResponse } from './problem.ts';

const tags = ['policy'];

const OriginSchema = z.object({ file: z.string(), line: z.number().int() });

const RuleSchema = z
  .object({
    name: z.string(),
    effect: z.enum(['allow', 'deny']),
    mode: z.enum(['enforce', 'dry-run']),
    reason: z.string().nullable(),
    match: z.record(z.string(), z.array(z.string())).openapi({ description: 'Match field → globs.' }),
    condition: z.string().nullable().openapi({ description: 'The CEL `when:` as written.' }),
    origin: OriginSchema,
  })
  .openapi('PolicyRule');

const DecisionSchema = z.object({
  effect: z.enum(['allow', 'deny']),
  rule: z.string(),
  mode: z.enum(['enforce', 'dry-run']),
  reason: z.string().optional(),
});

const ExplanationSchema = z
  .object({
    decision: DecisionSchema,
    decidedBy: z.string().nullable().openapi({ description: 'The deciding rule; null: the tenant default.' }),
    listed: z.boolean().openapi({ description: 'Whether the item would be shown in lists.' }),
    tenantDefault: z.object({ effect: z.enum(['allow', 'deny']), origin: OriginSchema.nullable() }),
    rules: z.array(
      z.object({
        rule: z.string(),
        outcome: z.enum(['no-match', 'match', 'condition-false', 'condition-error']),
        detail: z
          .string()
          .nullable()
          .openapi({ description: 'The field that failed, or the condition error.' }),
      }),
    ),
  })
  .openapi('PolicyExplanation');

function ruleOut(rule: CompiledRule): z.infer<typeof RuleSchema> {
  return {
    name: rule.name,
    effect: rule.effect,
    mode: rule.mode,
    reason: rule.reason ?? null,
    match: Object.fromEntries(rule.fields.map((field) => [field.field, [...field.globs]])),
    condition: rule.condition?.source ?? null,
    origin: { ...rule.origin },
  };
}

function detailOf(outcome: RuleOutcome): string | null {
  if (outcome.kind === 'no-match') return outcome.field;
  if (outcome.kind === 'condition-error') return outcome.message;
  return null;
}

const originOut = (origin: Origin | undefined) => (origin ? { ...origin } : null);

export function policyApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/policy',
      tags,
      responses: {
        200: jsonOf(
          z.object({ files: z.array(z.string()), rules: z.array(RuleSchema) }),
          'The loaded rules, in evaluation order.',
        ),
        ...PROBLEMS,
      },
    }),
    (c) => {
      requirePlatform(c.get('actor'));
      const policies = deps.policies();
      return c.json({ files: [...policies.files], rules: policies.rules.map(ruleOut) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/policy/explain',
      tags,
      request: {
        body: jsonBody(
          z.record(z.string(), z.unknown()).openapi({
            description:
              'A policy input as `mcplane policy explain --input` reads it (docs/policy.md): `tenant`, `server`, one of `tool`/`prompt`/`resource`, optional `principal`, `args`, `usage`, `anomaly`.',
          }),
        ),
      },
      responses: { 200: jsonOf(ExplanationSchema, 'What the rules decide, and why.'), ...PROBLEMS },
    }),
    (c) => {
      requirePlatform(c.get('actor'));
      const body = c.req.valid('json');
      // `tenant: acme` means the tenant as it runs now: with its tier, unless the input names one.
      const tenant = typeof body.tenant === 'string' ? deps.view().tenants.get(body.tenant) : undefined;
      const parsed = PolicyInputFileSchema.safeParse(
        tenant ? { ...body, tenant: { id: tenant.id, tier: tenant.tier } } : body,
      );
      if (!parsed.success) {
        const errors = parsed.error.issues.map((issue) => ({
          path: issue.path.join('.'),
          message: issue.message,
        }));
        const problem = new GatewayError('INVALID_PARAMS', 'The policy input is invalid');
        // A 400 problem, as the route declares (PROBLEMS); the typed responses cover only 200.
        return problemResponse(problem, deps.log, errors) as never;
      }
      const policies = deps.policies();
      const input = toPolicyInput(parsed.data, new Date());
      const explanation = policies.explain(input);
      return c.json(
        {
          decision: { ...explanation.decision },
          decidedBy: explanation.decidedBy?.name ?? null,
          listed: policies.listed(input),
          tenantDefault: {
            effect: explanation.tenantDefault.effect,
            origin: originOut(explanation.tenantDefault.origin),
          },
          rules: explanation.rules.map(({ rule, outcome }) => ({
            rule: rule.name,
            outcome: outcome.kind,
            detail: detailOf(outcome),
          })),
        },
        200,
      );
    },
  );
}
