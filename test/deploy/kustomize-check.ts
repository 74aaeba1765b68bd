/**
 * A minimal, offline reading of a kustomization tree, for machines without kustomize: it does not
 * render anything, it checks that everything a kustomization refers to is there. Resources
 * resolve to files or kustomization directories; generator files exist; `behavior: replace` and
 * `merge` find the generator they change; every patch targets an existing object by kind and
 * name, a JSON 6902 `replace`/`remove` names a path that exists, and a strategic-merge patch of
 * a pod template names containers the target has (else kustomize would add a bare container);
 * `images` and `replicas` name something that exists. Unknown fields are problems.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseYamlDocuments, readYamlDocuments, type Manifest } from './manifest-validator.ts';

export type KustomizeReading = {
  /** The objects the tree's resource files declare, before any patch. */
  readonly resources: Manifest[];
  /** The ConfigMaps and Secrets its generators make (kind and name only). */
  readonly generated: Manifest[];
  /** Every file the tree refers to, absolute. */
  readonly files: Set<string>;
  readonly problems: string[];
};

const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'labels',
  'commonAnnotations',
  'resources',
  'components',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'patches',
  'images',
  'replicas',
]);

type Generator = { name?: string; behavior?: string; files?: string[]; envs?: string[]; literals?: string[] };
type Patch = {
  path?: string;
  patch?: string;
  target?: { group?: string; version?: string; kind?: string; name?: string };
};
type Kustomization = {
  resources?: string[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  patches?: Patch[];
  images?: { name?: string }[];
  replicas?: { name?: string; count?: number }[];
};

export function readKustomization(dir: string): KustomizeReading {
  const reading: KustomizeReading = { resources: [], generated: [], files: new Set(), problems: [] };
  visit(resolve(dir), reading, new Set());
  return reading;
}

function visit(dir: string, reading: KustomizeReading, ancestors: Set<string>): void {
  const file = join(dir, 'kustomization.yaml');
  const where = (text: string): string => `${relative(process.cwd(), file)}: ${text}`;
  if (ancestors.has(dir)) return void reading.problems.push(where('includes itself'));
  if (!existsSync(file)) return void reading.problems.push(where('missing'));
  reading.files.add(file);
  const kustomization = parse(readFileSync(file, 'utf8')) as Kustomization & Record<string, unknown>;
  for (const field of Object.keys(kustomization))
    if (!KNOWN_FIELDS.has(field)) reading.problems.push(where(`unknown field "${field}"`));
  const problem = (text: string): void => void reading.problems.push(where(text));
  const inner = new Set(ancestors).add(dir);

  for (const entry of kustomization.resources ?? []) addResource(dir, entry, reading, inner, problem);
  generators(dir, 'ConfigMap', kustomization.configMapGenerator, reading, problem);
  generators(dir, 'Secret', kustomization.secretGenerator, reading, problem);
  for (const patch of kustomization.patches ?? []) checkPatch(dir, patch, reading, problem);
  for (const image of kustomization.images ?? []) {
    if (!containers(reading.resources).some((container) => imageName(container.image) === image.name))
      problem(`images: no container uses image "${image.name}"`);
  }
  for (const replica of kustomization.replicas ?? []) {
    if (!reading.resources.some((r) => r.kind === 'Deployment' && r.metadata.name === replica.name))
      problem(`replicas: no Deployment named "${replica.name}"`);
    if (!Number.isInteger(replica.count)) problem(`replicas: count of "${replica.name}" is not an integer`);
  }
}

function addResource(
  dir: string,
  entry: string,
  reading: KustomizeReading,
  ancestors: Set<string>,
  problem: (text: string) => void,
): void {
  if (/^[a-z]+:\/\/|^github\.com\//.test(entry))
    return problem(`resources: remote "${entry}" is not checked`);
  const path = resolve(dir, entry);
  if (!existsSync(path)) return problem(`resources: "${entry}" does not exist`);
  if (statSync(path).isDirectory()) return visit(path, reading, ancestors);
  reading.files.add(path);
  for (const document of readYamlDocuments(path)) {
    const manifest = document as Partial<Manifest>;
    if (typeof manifest.kind !== 'string' || typeof manifest.metadata?.name !== 'string') {
      problem(`resources: "${entry}" holds an object without kind or metadata.name`);
      continue;
    }
    reading.resources.push(manifest as Manifest);
  }
}

function generators(
  dir: string,
  kind: 'ConfigMap' | 'Secret',
  list: Generator[] | undefined,
  reading: KustomizeReading,
  problem: (text: string) => void,
): void {
  for (const generator of list ?? []) {
    const label = `${kind} generator "${generator.name}"`;
    if (typeof generator.name !== 'string') problem(`${kind} generator without a name`);
    for (const source of [...(generator.files ?? []), ...(generator.envs ?? [])]) {
      // `key=path` names the key; the file is what follows the first "=".
      const path = resolve(dir, source.includes('=') ? source.slice(source.indexOf('=') + 1) : source);
      if (existsSync(path)) reading.files.add(path);
      else problem(`${label}: "${source}" does not exist`);
    }
    const existing = objects(reading).find((r) => r.kind === kind && r.metadata.name === generator.name);
    const behavior = generator.behavior ?? 'create';
    if (behavior === 'create' && existing) problem(`${label} already exists; use behavior: replace or merge`);
    else if (behavior !== 'create' && !existing)
      problem(`${label}: behavior ${behavior} needs one in a base`);
    else if (!['create', 'replace', 'merge'].includes(behavior)) problem(`${label}: unknown behavior`);
    if (!existing)
      reading.generated.push({ apiVersion: 'v1', kind, metadata: { name: generator.name ?? '' } });
  }
}

function checkPatch(
  dir: string,
  patch: Patch,
  reading: KustomizeReading,
  problem: (text: string) => void,
): void {
  if ((patch.path === undefined) === (patch.patch === undefined))
    return problem('patches: each needs exactly one of path or patch');
  let text = patch.patch ?? '';
  if (patch.path !== undefined) {
    const path = resolve(dir, patch.path);
    if (!existsSync(path)) return problem(`patches: "${patch.path}" does not exist`);
    reading.files.add(path);
    text = readFileSync(path, 'utf8');
  }
  const [body] = parseYamlDocuments(text, patch.path ?? 'inline patch');
  if (Array.isArray(body)) {
    const target = patchTarget(patch.target, reading, problem);
    if (target) checkJsonPatch(body, target, problem);
    return;
  }
  const strategic = body as Partial<Manifest>;
  const target = patchTarget(
    patch.target ?? { kind: strategic.kind, name: strategic.metadata?.name },
    reading,
    problem,
  );
  if (target) checkContainerNames(strategic, target, problem);
}

function patchTarget(
  target: Patch['target'],
  reading: KustomizeReading,
  problem: (text: string) => void,
): Manifest | undefined {
  if (!target?.kind || !target.name) return void problem('patches: a target needs kind and name');
  const found = objects(reading).find(
    (r) =>
      r.kind === target.kind &&
      r.metadata.name === target.name &&
      (target.group === undefined || r.apiVersion.split('/')[0] === target.group) &&
      (target.version === undefined || r.apiVersion.endsWith(target.version)),
  );
  if (!found) problem(`patches: no ${target.kind} named "${target.name}" to patch`);
  return found;
}

function checkJsonPatch(operations: unknown[], target: Manifest, problem: (text: string) => void): void {
  for (const operation of operations as { op?: string; path?: string }[]) {
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(operation.op ?? ''))
      problem(`patches: unknown JSON patch op "${operation.op}"`);
    else if (typeof operation.path !== 'string' || !operation.path.startsWith('/'))
      problem(`patches: JSON patch path "${operation.path}" is not a pointer`);
    else if (
      ['remove', 'replace', 'test'].includes(operation.op ?? '') &&
      !pointerExists(target, operation.path)
    )
      problem(`patches: ${target.kind} ${target.metadata.name} has no ${operation.path}`);
  }
}

function pointerExists(document: unknown, pointer: string): boolean {
  let node = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

function checkContainerNames(
  patch: Partial<Manifest>,
  target: Manifest,
  problem: (text: string) => void,
): void {
  const known = new Set(containers([target]).map((container) => container.name));
  for (const container of containers([patch as Manifest]))
    if (!known.has(container.name))
      problem(`patches: ${target.kind} ${target.metadata.name} has no container "${container.name}"`);
}

function objects(reading: KustomizeReading): Manifest[] {
  return [...reading.resources, ...reading.generated];
}

type Container = { name?: string; image?: string };
function containers(manifests: readonly Manifest[]): Container[] {
  return manifests.flatMap((manifest) => {
    const spec = (manifest.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)
      ?.template;
    return spec?.spec?.containers ?? [];
  });
}

function imageName(image: string | undefined): string | undefined {
  return image?.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
}
