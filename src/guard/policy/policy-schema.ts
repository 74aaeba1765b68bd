/**
 * The one definition of a policy file (`policies/*.yaml`). Loading validates every file against
 * it and reports each problem at its line; see `docs/policy.md` for the meaning of each field.
 */
import { z } from 'zod';

/** The fields a rule matches on, each a glob or a list of globs. */
export const MATCH_FIELDS = [
  'tenant',
  'tier',
  'project',
  'role',
  'principal',
  'server',
  'method',
  'tool',
  'prompt',
  'resource',
] as const;

export type MatchField = (typeof MATCH_FIELDS)[number];

const Glob = z.string().min(1, 'a glob cannot be empty');
const Globs = z.union([Glob, z.array(Glob).min(1, 'list at least one glob')]).meta({
  description: 'A glob (`*` any characters, `?` one character, `\\` escapes) or a list of globs.',
});

export const EffectSchema = z.enum(['allow', 'deny']);
export const ModeSchema = z.enum(['enforce', 'dry-run']).meta({
  description: 'dry-run: a deny is computed and recorded, but the call goes ahead.',
});

const RuleName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    'rule names are letters, digits, ".", "_" and "-", starting with a letter or digit',
  )
  .refine((name) => name !== 'default', '"default" stands for the tenant default; choose another name');

const TenantKey = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9-]{0,62})$/, 'expected a tenant id or "*" for every other tenant');

export const RuleSchema = z
  .object({
    name: RuleName.meta({ description: 'Unique across all policy files; decisions and audit name it.' }),
    effect: EffectSchema,
    mode: ModeSchema.optional().meta({ description: "Overrides the file's mode for this deny rule." }),
    reason: z.string().min(1).max(500).optional().meta({
      description: 'Shown to the client when this rule denies. Without one a denied item looks unknown.',
    }),
    tenant: Globs.optional(),
    tier: Globs.optional(),
    project: Globs.optional(),
    role: Globs.optional(),
    principal: Globs.optional().meta({ description: 'The principal subject, e.g. `key:*` or `jwt:alice`.' }),
    server: Globs.optional(),
    method: Globs.optional().meta({ description: 'tools/call, prompts/get, resources/read, ...' }),
    tool: Globs.optional().meta({ description: 'The tool name as its server knows it (not name-spaced).' }),
    prompt: Globs.optional().meta({ description: 'The prompt name as its server knows it.' }),
    resource: Globs.optional().meta({ description: 'A resource URI glob.' }),
    when: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'A CEL condition; the rule matches when it is true.' }),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const items = (['tool', 'prompt', 'resource'] as const).filter((field) => rule[field] !== undefined);
    if (items.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a call targets one tool, prompt or resource, so a rule names at most one of them (this one names ${items.join(' and ')})`,
        path: [items[1] as string],
      });
    }
    if (rule.effect === 'allow' && rule.mode !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'mode changes what a deny does; an allow rule allows in either mode',
        path: ['mode'],
      });
    }
    if (rule.effect === 'allow' && rule.reason !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a reason is shown to the client when a rule denies; an allow rule has none',
        path: ['reason'],
      });
    }
  });

export const PolicyFileSchema = z.preprocess(
  // A file of comments only (every example commented out) is an empty policy, not an error.
  (value) => value ?? {},
  z
    .object({
      mode: ModeSchema.default('enforce').meta({
        description: "The mode of this file's deny rules and defaults.",
      }),
      defaults: z.record(TenantKey, EffectSchema).default({}).meta({
        description: 'What happens when no rule matches, per tenant id; "*" for every other tenant.',
      }),
      rules: z.array(RuleSchema).default([]),
    })
    .strict(),
);

export type PolicyFile = z.output<typeof PolicyFileSchema>;
export type RuleSpec = z.output<typeof RuleSchema>;
export type Effect = z.output<typeof EffectSchema>;
export type Mode = z.output<typeof ModeSchema>;
