/**
 * The compiled form of `guards:`: for a (tenant, server) pair, which detector instances run in
 * each direction and with what action. Compiled once per config (a reload builds a new
 * {@link GuardProfiles}); a profile is built on first use per pair and kept.
 */
import { createExfiltrationLinksDetector, type LinkPolicy } from './detectors/exfiltration-links.ts';
import { createHiddenCharactersDetector } from './detectors/hidden-characters.ts';
import { createInstructionOverrideDetector } from './detectors/instruction-override.ts';
import { createOversizedOutputDetector } from './detectors/oversized-output.ts';
import { createSecretsDetector } from './detectors/secrets.ts';
import { createTerminalEscapesDetector } from './detectors/terminal-escapes.ts';
import { DETECTOR_ORDER, type Detector, type DetectorName } from './detectors/detector.ts';
import { HttpClassifier, type Classifier } from './classifier.ts';
import {
  DETECTOR_DEFAULTS,
  type DirectionAction,
  type GuardAction,
  type GuardLayer,
  type GuardsConfig,
} from './guard-schema.ts';

export type Direction = 'input' | 'output';
export type ActiveDetector = { readonly detector: Detector; readonly action: GuardAction };
export type ClassifierAction = 'block' | 'flag';

export type GuardProfile = {
  readonly input: readonly ActiveDetector[];
  readonly output: readonly ActiveDetector[];
  readonly responseValidation: 'off' | 'flag' | 'block';
  readonly classifier?: {
    readonly client: Classifier;
    readonly input?: ClassifierAction;
    readonly output?: ClassifierAction;
  };
};

export const DEFAULT_MAX_OUTPUT_SIZE = 256 * 1024;
export const DEFAULT_ENTROPY = { threshold: 4.0, minLength: 32 } as const;
/** Pairs come from the config (tenants × servers), but a bound keeps a bug from growing it. */
const MAX_PROFILES = 10_000;

/** Detectors without options are stateless: one instance serves every profile. */
const SHARED: Partial<Record<DetectorName, Detector>> = {
  'terminal-escapes': createTerminalEscapesDetector(),
  'hidden-characters': createHiddenCharactersDetector(),
  'instruction-override': createInstructionOverrideDetector(),
};

const EMPTY: GuardProfile = { input: [], output: [], responseValidation: 'off' };

type Resolved = {
  actions: Record<DetectorName, { input: DirectionAction; output: DirectionAction }>;
  allowHosts: string[];
  links: LinkPolicy;
  maxOutputSize: number;
  entropy: { threshold: number; minLength: number };
  responseValidation: 'off' | 'flag' | 'block';
  classifier: { enabled: boolean; input: 'block' | 'flag' | 'off'; output: 'block' | 'flag' | 'off' };
};

export class GuardProfiles {
  readonly #config: GuardsConfig;
  readonly #classifier: Classifier | undefined;
  readonly #profiles = new Map<string, GuardProfile>();

  constructor(config: GuardsConfig, options: { classifier?: Classifier } = {}) {
    this.#config = config;
    this.#classifier =
      options.classifier ??
      (config.classifier && config.classifier.enabled ? new HttpClassifier(config.classifier) : undefined);
  }

  /** The profile for calls of this tenant to this server; `server` is unknown before routing. */
  profile(tenantId: string, server: string | undefined): GuardProfile {
    if (!this.#config.enabled) return EMPTY;
    const key = `${tenantId}\u0000${server ?? ''}`;
    let profile = this.#profiles.get(key);
    if (!profile) {
      profile = this.#build(tenantId, server);
      if (this.#profiles.size >= MAX_PROFILES) this.#profiles.clear();
      this.#profiles.set(key, profile);
    }
    return profile;
  }

  #build(tenantId: string, server: string | undefined): GuardProfile {
    const tenant = own(this.#config.tenants, tenantId);
    const layers: (GuardLayer | undefined)[] = [
      this.#config,
      server === undefined ? undefined : own(this.#config.servers, server),
      tenant,
      server === undefined || tenant === undefined ? undefined : own(tenant.servers, server),
    ];
    const resolved = resolve(layers, this.#config.classifier);
    const instances = instantiate(resolved);
    const active = (direction: Direction): ActiveDetector[] =>
      DETECTOR_ORDER.flatMap((name) => {
        const action = resolved.actions[name][direction];
        return action === 'off' ? [] : [{ detector: instances[name], action }];
      });
    const classifier =
      this.#classifier && resolved.classifier.enabled
        ? {
            client: this.#classifier,
            ...(resolved.classifier.input !== 'off' ? { input: resolved.classifier.input } : {}),
            ...(resolved.classifier.output !== 'off' ? { output: resolved.classifier.output } : {}),
          }
        : undefined;
    return {
      input: active('input'),
      output: active('output'),
      responseValidation: resolved.responseValidation,
      ...(classifier ? { classifier } : {}),
    };
  }
}

/** A record's own entry: never something inherited, whatever the key. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function resolve(
  layers: readonly (GuardLayer | undefined)[],
  classifier: GuardsConfig['classifier'],
): Resolved {
  const resolved: Resolved = {
    actions: Object.fromEntries(
      DETECTOR_ORDER.map((name) => [name, { ...DETECTOR_DEFAULTS[name] }]),
    ) as Resolved['actions'],
    allowHosts: [],
    links: 'with-query',
    maxOutputSize: DEFAULT_MAX_OUTPUT_SIZE,
    entropy: { ...DEFAULT_ENTROPY },
    responseValidation: 'flag',
    classifier: {
      enabled: classifier !== undefined && classifier.enabled,
      input: classifier?.input ?? 'off',
      output: classifier?.output ?? 'off',
    },
  };
  for (const layer of layers) {
    if (!layer) continue;
    for (const name of DETECTOR_ORDER) {
      const setting = layer.detectors?.[name];
      if (!setting) continue;
      const actions = resolved.actions[name];
      if (setting.enabled === false) {
        actions.input = 'off';
        actions.output = 'off';
      } else if (setting.enabled === true) {
        // Turning a detector back on restores its defaults unless the layer names actions.
        if (actions.input === 'off') actions.input = DETECTOR_DEFAULTS[name].input;
        if (actions.output === 'off') actions.output = DETECTOR_DEFAULTS[name].output;
      }
      if (setting.input) actions.input = setting.input;
      if (setting.output) actions.output = setting.output;
    }
    if (layer.allowHosts) resolved.allowHosts.push(...layer.allowHosts);
    if (layer.links) resolved.links = layer.links;
    if (layer.maxOutputSize !== undefined) resolved.maxOutputSize = layer.maxOutputSize;
    if (layer.entropy?.threshold !== undefined) resolved.entropy.threshold = layer.entropy.threshold;
    if (layer.entropy?.minLength !== undefined) resolved.entropy.minLength = layer.entropy.minLength;
    if (layer.responseValidation) resolved.responseValidation = layer.responseValidation;
    const override = layer.classifier;
    if (override) {
      if (override.enabled !== undefined)
        resolved.classifier.enabled = override.enabled && classifier !== undefined;
      if (override.input) resolved.classifier.input = override.input;
      if (override.output) resolved.classifier.output = override.output;
    }
  }
  return resolved;
}

function instantiate(resolved: Resolved): Record<DetectorName, Detector> {
  return {
    'oversized-output': createOversizedOutputDetector({ maxBytes: resolved.maxOutputSize }),
    'terminal-escapes': SHARED['terminal-escapes'] as Detector,
    'hidden-characters': SHARED['hidden-characters'] as Detector,
    secrets: createSecretsDetector({ entropy: resolved.entropy }),
    'exfiltration-links': createExfiltrationLinksDetector({
      allowHosts: resolved.allowHosts,
      links: resolved.links,
    }),
    'instruction-override': SHARED['instruction-override'] as Detector,
  };
}
