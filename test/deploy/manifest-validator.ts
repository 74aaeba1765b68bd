/**
 * Kubernetes manifests checked against the Kubernetes JSON schemas (kubernetes-models, generated
 * from the API server's OpenAPI document) and the Prometheus Operator's CRD schemas. A kind the
 * map below does not know is a problem, never a silent pass.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

/** A parsed Kubernetes object; only the fields every object has are typed. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
};

type Validate = (data: unknown) => void;
const model =
  <T>(Model: new (data: T) => { validate(): void }): Validate =>
  (data) =>
    new Model(data as T).validate();

const MODELS: Readonly<Record<string, Validate>> = {
  'apps/v1/Deployment': model(Deployment),
  'autoscaling/v2/HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
  'monitoring.coreos.com/v1/ServiceMonitor': model(ServiceMonitor),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Namespace': model(Namespace),
  'v1/Secret': model(Secret),
  'v1/Service': model(Service),
};

/**
 * What is wrong with one object: an unknown kind, a missing name, or every schema violation the
 * validator reports (e.g. `data/spec/replicas must be integer`). Empty when it is valid.
 */
export function manifestProblems(data: unknown): string[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return ['not an object'];
  const { apiVersion, kind, metadata } = data as Partial<Manifest>;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required'];
  const validate = MODELS[`${apiVersion}/${kind}`];
  if (!validate) return [`no schema known for ${apiVersion} ${kind}`];
  const problems = typeof metadata?.name === 'string' ? [] : [`${kind}: metadata.name is required`];
  try {
    validate(kind === 'Secret' ? unwrapSecretData(data) : data);
  } catch (error) {
    problems.push(
      `${kind} ${metadata?.name ?? '?'}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return problems;
}

/**
 * kustomize wraps a long base64 value at 70 columns; the API server decodes `[]byte` with Go's
 * base64, which skips line breaks, but the schema's `byte` format does not allow them.
 */
function unwrapSecretData(secret: object): object {
  const data = (secret as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return secret;
  const unwrapped = Object.entries(data as Record<string, unknown>).map(([key, value]): [string, unknown] => [
    key,
    typeof value === 'string' ? value.replace(/\r?\n/g, '') : value,
  ]);
  return { ...secret, data: Object.fromEntries(unwrapped) };
}

/** Every document of a multi-document YAML text, empty documents skipped; a syntax error throws. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text).flatMap((document, index) => {
    const [error] = document.errors;
    if (error) throw new Error(`${source}: document ${index + 1}: ${error.message}`);
    const value: unknown = document.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

export function readYamlDocuments(path: string): unknown[] {
  return parseYamlDocuments(readFileSync(path, 'utf8'), path);
}

/** The single object of `kind` (and `name`, when given) among `manifests`; throws otherwise. */
export function findManifest<T extends Manifest = Manifest>(
  manifests: readonly Manifest[],
  kind: string,
  name?: string,
): T {
  const found = manifests.filter(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name),
  );
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}
