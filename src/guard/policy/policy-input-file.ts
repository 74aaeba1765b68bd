/**
 * A policy input as written in a file, for `mcplane policy test` and `mcplane policy explain`:
 * the shape of {@link PolicyInput}, with defaults for what a case does not care about and two
 * shorthands (`tenant: acme`, `principal: key:abc`). JSON is YAML, so either format reads.
 */
import { z } from 'zod';
import type { PolicyInput } from './policy-input.ts';

const Text = z.string().min(1);

const PrincipalSchema = z.union([
  Text.transform((subject) => ({ subject })),
  z
    .object({
      subject: Text.default('key:test'),
      role: Text.optional(),
      via: z.enum(['api-key', 'jwt', 'local', 'anonymous']).default('api-key'),
      scopes: z.array(z.string()).default([]),
    })
    .strict(),
]);

const TenantSchema = z.union([
  Text.transform((id) => ({ id, tier: 'standard' })),
  z.object({ id: Text, tier: Text.default('standard') }).strict(),
]);

const Count = z.number().int().nonnegative();

const METHOD_OF = { tool: 'tools/call', prompt: 'prompts/get', resource: 'resources/read' } as const;

export const PolicyInputFileSchema = z
  .object({
    principal: PrincipalSchema.default({ subject: 'key:test' }),
    tenant: TenantSchema,
    project: Text.optional(),
    server: Text,
    method: Text.optional().meta({ description: 'Defaults from tool, prompt or resource.' }),
    tool: Text.optional(),
    prompt: Text.optional(),
    resource: Text.optional(),
    args: z.record(z.string(), z.unknown()).default({}),
    request: z
      .object({
        time: z.iso.datetime({ offset: true }).optional().meta({ description: 'Defaults to now.' }),
        face: z.enum(['streamable-http', 'legacy-sse', 'stdio', 'admin-mcp']).default('streamable-http'),
      })
      .strict()
      .prefault({}),
    usage: z
      .object({ callsLastMinute: Count.default(0), callsLastHour: Count.default(0) })
      .strict()
      .prefault({}),
    anomaly: z
      .object({ score: z.number().min(0).max(1).default(0) })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((input, ctx) => {
    const items = (['tool', 'prompt', 'resource'] as const).filter((field) => input[field] !== undefined);
    if (items.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'name one of tool, prompt or resource',
        path: [items[1] as string],
      });
    }
    if (items.length === 0 && input.method === undefined) {
      ctx.addIssue({ code: 'custom', message: 'name a tool, prompt or resource, or a method', path: [] });
    }
  });

export type PolicyInputFile = z.output<typeof PolicyInputFileSchema>;

/** The input a decision takes; `now` stands in for a missing `request.time`. */
export function toPolicyInput(file: PolicyInputFile, now: Date): PolicyInput {
  const item = (['tool', 'prompt', 'resource'] as const).find((field) => file[field] !== undefined);
  const principal = { via: 'api-key', scopes: [] as string[], ...file.principal };
  return {
    principal,
    tenant: file.tenant,
    ...(file.project === undefined ? {} : { project: file.project }),
    server: file.server,
    method: file.method ?? (item === undefined ? '' : METHOD_OF[item]),
    ...(item === undefined ? {} : { [item]: file[item] }),
    args: file.args,
    request: {
      time: file.request.time === undefined ? now : new Date(file.request.time),
      face: file.request.face,
    },
    usage: file.usage,
    anomaly: file.anomaly,
  };
}
