/**
 * The environment a Deployment's container would start with, worked out as the kubelet does for
 * the forms these manifests use: literal values with `$(VAR)` references to earlier entries, the
 * pod's namespace from the downward API, and keys of Secrets. Any other form throws, so a test
 * never reasons about an environment it did not really compute.
 */
import type { Manifest } from './manifest-validator.ts';

type EnvEntry = {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath?: string };
    secretKeyRef?: { name?: string; key?: string };
  };
};
export type ContainerSpec = {
  name: string;
  image?: string;
  args?: string[];
  env?: EnvEntry[];
  envFrom?: unknown[];
  [field: string]: unknown;
};
export type PodSpec = { containers: ContainerSpec[]; [field: string]: unknown };
export type DeploymentManifest = Manifest & {
  spec: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};

export type PodContext = {
  readonly namespace: string;
  /** Secret name → its decoded data. */
  readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
};

export function containerEnvironment(container: ContainerSpec, context: PodContext): Record<string, string> {
  if (container.envFrom !== undefined) throw new Error('envFrom is not modelled here');
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) env[entry.name] = entryValue(entry, env, context);
  return env;
}

function entryValue(entry: EnvEntry, earlier: Record<string, string>, context: PodContext): string {
  if (entry.value !== undefined) {
    // `$(VAR)` expands an earlier entry; an unknown one stays as written, as the kubelet leaves it.
    return entry.value.replace(
      /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
      (text, name: string) => earlier[name] ?? text,
    );
  }
  const fieldPath = entry.valueFrom?.fieldRef?.fieldPath;
  if (fieldPath === 'metadata.namespace') return context.namespace;
  const secretRef = entry.valueFrom?.secretKeyRef;
  if (secretRef?.name !== undefined && secretRef.key !== undefined) {
    const value = context.secrets[secretRef.name]?.[secretRef.key];
    if (value === undefined)
      throw new Error(`${entry.name}: Secret ${secretRef.name} has no key ${secretRef.key}`);
    return value;
  }
  throw new Error(`${entry.name}: this form of env entry is not modelled here`);
}

/** `KEY=value` lines, as kustomize's `envs:` reads them (blank lines and `#` comments skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) throw new Error(`not KEY=value: ${trimmed}`);
    values[trimmed.slice(0, equals)] = trimmed.slice(equals + 1);
  }
  return values;
}

/** A rendered Secret's `data` (base64) and `stringData`, decoded. */
export function secretData(secret: Manifest): Record<string, string> {
  const data = (secret.data ?? {}) as Record<string, string>;
  const decoded = Object.fromEntries(
    Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
  return { ...decoded, ...((secret.stringData ?? {}) as Record<string, string>) };
}
