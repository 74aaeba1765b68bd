/**
 * The `guards:` section of the gateway config: which detectors run, with which action, in which
 * direction, and per-tenant and per-server overrides. A fragment for the config schema
 * (src/config/schema.ts adds it as `gateway.guards` or at the top level; the composition root
 * compiles it with {@link compileGuardProfiles} in guard-profiles.ts).
 *
 * Layers, later wins key by key: built-in defaults → `guards` → `guards.servers.<server>` →
 * `guards.tenants.<tenant>` → `guards.tenants.<tenant>.servers.<server>`. A tenant's layer comes
 * after a server's because a tenant's own tightening must hold on every server it uses.
 * `allowHosts` is the one list that adds up across layers instead of replacing.
 *
 * Defaults, and why:
 * - `secrets`: redact in output (a leaked key must not reach a model or a log of its answer),
 *   flag in input (the caller already has what it sends; rewriting a tool's arguments would
 *   break it in ways the caller cannot see).
 * - `instruction-override`: flag both ways. The detector sees phrases, not intent: it also fires
 *   on security write-ups that quote attacks, and redacting a phrase leaves the rest of an
 *   injected text in place, which suggests a protection it is not. Blocking a whole result on a
 *   false positive costs the user the call. The finding feeds audit, anomaly scoring and policy;
 *   set `output: block` (or `redact`) for servers that fetch untrusted content.
 * - `hidden-characters`, `terminal-escapes`: redact both ways. They have no meaning a model
 *   needs, and stripping them is exactly the fix.
 * - `exfiltration-links`: redact in output (a rendered image is a zero-click leak), flag in input
 *   (arguments are often documents the user is writing, images included).
 * - `oversized-output`: truncate (`redact`) output over 256 KiB per text: about 64k tokens,
 *   already more than most clients keep of one tool result.
 * - `responseValidation`: flag. A server whose result does not match its own outputSchema is
 *   broken or compromised, but refusing its results is a decision for its operator.
 * - The classifier is off until configured: the built-in detectors need no network.
 */
import { z } from 'zod';
import { ByteSize, Duration } from '../config/durations.ts';
import type { DetectorName } from './detectors/detector.ts';
import { normalizeHost } from './detectors/exfiltration-links.ts';

export const GuardAction = z.enum(['block', 'redact', 'flag']);
export type GuardAction = z.output<typeof GuardAction>;
const DirectionAction = z.enum(['block', 'redact', 'flag', 'off']);
export type DirectionAction = z.output<typeof DirectionAction>;
const ClassifierAction = z.enum(['block', 'flag', 'off']);

const DetectorSetting = z
  .object({
    enabled: z.boolean().optional().meta({ description: 'Off turns the detector off in both directions.' }),
    input: DirectionAction.optional().meta({
      description: 'Action on tool and prompt arguments and sampling requests.',
    }),
    output: DirectionAction.optional().meta({
      description: 'Action on tool results, resource contents, prompts and sampling results.',
    }),
  })
  .strict();

export const DETECTOR_DEFAULTS: Readonly<
  Record<DetectorName, { input: DirectionAction; output: DirectionAction }>
> = {
  'oversized-output': { input: 'off', output: 'redact' },
  'terminal-escapes': { input: 'redact', output: 'redact' },
  'hidden-characters': { input: 'redact', output: 'redact' },
  secrets: { input: 'flag', output: 'redact' },
  'exfiltration-links': { input: 'flag', output: 'redact' },
  'instruction-override': { input: 'flag', output: 'flag' },
};

const DetectorsSchema = z
  .object({
    'instruction-override': DetectorSetting.optional(),
    'hidden-characters': DetectorSetting.optional(),
    'terminal-escapes': DetectorSetting.optional(),
    'exfiltration-links': DetectorSetting.optional(),
    secrets: DetectorSetting.optional(),
    'oversized-output': DetectorSetting.optional(),
  })
  .strict();

const HostPattern = z
  .string()
  .min(1)
  .refine(
    (host) => /^(\*\.)?[^*/:@\s]+$/.test(host) && normalizeHost(host.replace(/^\*\./, '')) !== undefined,
    'expected a host name such as docs.example.com, or *.example.com for its subdomains',
  );

const EntropySchema = z
  .object({
    threshold: z.number().min(1).max(8).optional().meta({
      description:
        'Shannon entropy in bits per character at or above which a token is a secret (default 4.0).',
    }),
    minLength: z.number().int().min(16).max(256).optional().meta({
      description: 'Shortest token the generic high-entropy test considers (default 32).',
    }),
  })
  .strict();

const ClassifierOverride = z
  .object({
    enabled: z.boolean().optional(),
    input: ClassifierAction.optional(),
    output: ClassifierAction.optional(),
  })
  .strict();

const layerShape = {
  detectors: DetectorsSchema.optional(),
  allowHosts: z.array(HostPattern).optional().meta({
    description: 'Hosts images and links may point to; adds to the lists of the layers before.',
  }),
  links: z.enum(['with-query', 'all']).optional().meta({
    description: 'Which links to other hosts count: only those with a query string (default), or all.',
  }),
  maxOutputSize: ByteSize.optional().meta({
    description:
      'Longest text of a result, in UTF-8 bytes, before oversized-output truncates it (default 256kb).',
  }),
  entropy: EntropySchema.optional(),
  responseValidation: z.enum(['off', 'flag', 'block']).optional().meta({
    description:
      "A tool result whose structuredContent does not match the tool's outputSchema (default flag).",
  }),
  classifier: ClassifierOverride.optional(),
};

/** One override layer: every key optional, so a layer changes only what it names. */
export const GuardLayerSchema = z.object(layerShape).strict();
export type GuardLayer = z.output<typeof GuardLayerSchema>;

export const ClassifierSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).meta({ description: 'POST endpoint of the classifier service.' }),
    enabled: z.boolean().default(true),
    timeout: Duration.default(1_000).meta({ description: 'How long one classification may take.' }),
    failMode: z.enum(['open', 'closed']).default('open').meta({
      description: 'On timeout or error: open lets the call through (and records it), closed refuses it.',
    }),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .meta({ description: 'Scores at or above this are hits.' }),
    labels: z
      .array(z.string().min(1))
      .min(1)
      .default(['INJECTION', 'JAILBREAK', 'MALICIOUS', 'UNSAFE', 'LABEL_1'])
      .meta({ description: 'Labels that mean "attack" (case-insensitive); any other label is benign.' }),
    bodyField: z.string().min(1).default('text').meta({
      description: 'The JSON field the text is sent in: text, prompt (LLM Guard), inputs (Hugging Face).',
    }),
    scorePath: z.string().min(1).optional().meta({
      description:
        'Dotted path to the score in the response, e.g. scanners.PromptInjection; auto-detected when unset.',
    }),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .meta({ description: 'Extra request headers (e.g. Authorization).' }),
    cacheSize: z
      .number()
      .int()
      .nonnegative()
      .default(1_000)
      .meta({ description: 'Verdicts kept, by content hash.' }),
    maxChars: z.number().int().min(256).max(1_000_000).default(16_384).meta({
      description: 'Longest text sent in one request; longer texts are sent in chunks (at most 8).',
    }),
    input: ClassifierAction.default('flag'),
    output: ClassifierAction.default('flag'),
  })
  .strict();
export type ClassifierConfig = z.output<typeof ClassifierSchema>;

const TenantGuardsSchema = GuardLayerSchema.extend({
  servers: z.record(z.string(), GuardLayerSchema).default({}),
}).strict();

export const GuardsSchema = z
  .object({
    enabled: z.boolean().default(true).meta({ description: 'Off: no guard runs anywhere.' }),
    ...layerShape,
    classifier: ClassifierSchema.optional().meta({
      description:
        'An external prompt-injection classifier over HTTP (Prompt Guard, LLM Guard). Off when absent.',
    }),
    servers: z
      .record(z.string(), GuardLayerSchema)
      .default({})
      .meta({ description: 'Overrides per server.' }),
    tenants: z.record(z.string(), TenantGuardsSchema).default({}).meta({
      description: 'Overrides per tenant, and per server within a tenant.',
    }),
  })
  .strict();
export type GuardsConfig = z.output<typeof GuardsSchema>;

/**
 * Servers and tenants named in `guards` that the config does not define, as YAML paths under
 * `guards`; the config schema's own superRefine reports them with its other reference checks.
 */
export function guardReferenceIssues(
  guards: GuardsConfig,
  servers: ReadonlySet<string>,
  tenants: ReadonlySet<string>,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const name of Object.keys(guards.servers)) {
    if (!servers.has(name)) issues.push({ path: ['servers', name], message: `unknown server "${name}"` });
  }
  for (const [tenant, layer] of Object.entries(guards.tenants)) {
    if (!tenants.has(tenant))
      issues.push({ path: ['tenants', tenant], message: `unknown tenant "${tenant}"` });
    for (const name of Object.keys(layer.servers)) {
      if (!servers.has(name)) {
        issues.push({ path: ['tenants', tenant, 'servers', name], message: `unknown server "${name}"` });
      }
    }
  }
  return issues;
}
