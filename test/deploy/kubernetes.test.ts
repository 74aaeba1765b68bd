/**
 * deploy/kubernetes: every manifest is valid against the Kubernetes (and Prometheus Operator)
 * schemas, the kustomizations hold together, and the Deployment fits the gateway it runs: the
 * probes reach endpoints the Host guard lets through, the grace period covers the drain, and the
 * config it mounts validates with the environment the pod gets. Nothing here talks to a cluster.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import type { Config } from '../../src/config/schema.ts';
import {
  gatewayConfig,
  imagePathProblems,
  repoPath,
  serverStatePaths,
  stopLadderMs,
} from './container-config.ts';
import { newApiKey, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';
import { readKustomization } from './kustomize-check.ts';
import { findKustomize } from './kustomize-tool.ts';
import {
  findManifest,
  manifestProblems,
  parseYamlDocuments,
  readYamlDocuments,
  type Manifest,
} from './manifest-validator.ts';
import {
  containerEnvironment,
  parseEnvFile,
  secretData,
  type ContainerSpec,
  type DeploymentManifest,
  type PodContext,
} from './pod-environment.ts';

const KUBERNETES = repoPath('deploy/kubernetes');
const BASE = join(KUBERNETES, 'base');
const PRODUCTION = join(KUBERNETES, 'overlays/production');
const CONFIG_FILE = 'servers.config.yaml';
const kustomize = findKustomize();

/** The secrets an operator would write into overlays/production/secrets.env. */
function productionSecrets(): Record<string, string> {
  return {
    MCPLANE_MASTER_KEY: randomBytes(32).toString('base64'),
    MCPLANE_KEY_PEPPER: randomBytes(48).toString('base64url'),
    DATABASE_URL: `postgres://mcplane:${randomBytes(12).toString('hex')}@postgresql.databases.svc:5432/mcplane`,
    REDIS_URL: 'redis://redis.databases.svc:6379',
  };
}

const envFileText = (values: Record<string, string>): string =>
  Object.entries(values)
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');

let work: string;
let secrets: Record<string, string>;
/** A copy of deploy/kubernetes with the production secrets.env filled in, as an operator has it. */
let filled: { base: string; production: string };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mcplane-kube-'));
  cpSync(KUBERNETES, join(work, 'kubernetes'), { recursive: true });
  secrets = productionSecrets();
  filled = { base: join(work, 'kubernetes/base'), production: join(work, 'kubernetes/overlays/production') };
  writeFileSync(join(filled.production, 'secrets.env'), envFileText(secrets));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

type Probe = {
  httpGet?: { path?: string; port?: string | number; httpHeaders?: { name: string; value: string }[] };
};
type Mount = { name: string; mountPath: string; readOnly?: boolean; subPath?: string };
type Volume = {
  name: string;
  configMap?: { name: string };
  emptyDir?: object;
  persistentVolumeClaim?: object;
};
type GatewayContainer = ContainerSpec & {
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds?: number } } };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Mount[];
};
type GatewayPod = {
  containers: GatewayContainer[];
  volumes?: Volume[];
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
};

function gatewayPod(deployment: DeploymentManifest): { pod: GatewayPod; container: GatewayContainer } {
  const pod = deployment.spec.template.spec as GatewayPod;
  const container = pod.containers.find((candidate) => candidate.name === 'mcplane');
  if (!container) throw new Error('the Deployment has no container named mcplane');
  return { pod, container };
}

type PodStart = { env: Record<string, string>; config: Config };

/** The environment the kubelet would give the pod, and the config it would load with it. */
function podStart(deployment: DeploymentManifest, configText: string, context: PodContext): PodStart {
  const env = containerEnvironment(gatewayPod(deployment).container, context);
  return { env, config: gatewayConfig(configText, CONFIG_FILE, env) };
}

function preStopSeconds(container: GatewayContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep?.seconds !== undefined) return preStop.sleep.seconds;
  const [command, seconds] = preStop?.exec?.command ?? [];
  if (command !== 'sleep' || seconds === undefined) throw new Error('preStop is not a sleep');
  return Number(seconds);
}

/** The behaviour a Deployment of the gateway must keep, whichever kustomization rendered it. */
function expectDeploymentFitsTheGateway(deployment: DeploymentManifest, { env, config }: PodStart): void {
  const { pod, container } = gatewayPod(deployment);

  expect(container.ports).toContainEqual({ name: 'http', containerPort: 8080, protocol: 'TCP' });
  expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/health', port: 'http' });
  expect(container.startupProbe?.httpGet).toMatchObject({ path: '/health', port: 'http' });
  expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/ready', port: 'http' });
  // /ready is behind the Host guard and the kubelet would send the pod IP as Host.
  const host = container.readinessProbe?.httpGet?.httpHeaders?.find(
    (header) => header.name === 'Host',
  )?.value;
  expect(config.gateway.http.allowedHosts).toContain(host);

  // A Service called mcplane injects MCPLANE_PORT=tcp://…, which `serve` would read as its port.
  expect(pod.enableServiceLinks).toBe(false);
  expect(env.MCPLANE_PORT).toBe('8080');

  const needed =
    preStopSeconds(container) + config.gateway.http.shutdownGrace / 1000 + stopLadderMs(config) / 1000 + 5;
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);

  expect(pod.securityContext?.runAsNonRoot).toBe(true);
  expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
  expect(container.securityContext).toMatchObject({
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
  });
  expect(container.securityContext?.capabilities?.drop).toContain('ALL');

  const mounts = container.volumeMounts ?? [];
  const volumes = new Map((pod.volumes ?? []).map((volume) => [volume.name, volume]));
  // The config is a whole ConfigMap directory: a subPath mount never sees an update.
  const args = container.args ?? [];
  const configArg = args[args.indexOf('--config') + 1] ?? '';
  expect(configArg).toMatch(/^\/.*\.yaml$/);
  const configMount = mounts.find((mount) => mount.mountPath === dirname(configArg));
  expect(configMount).toMatchObject({ readOnly: true });
  expect(configMount?.subPath).toBeUndefined();
  expect(volumes.get(configMount?.name ?? '')?.configMap?.name).toBe('mcplane-config');
  expect(args.slice(0, 3)).toEqual(['node', 'bin/mcplane.js', 'serve']);
  expect(args[args.indexOf('--host') + 1]).toBe('0.0.0.0');

  // With a read-only root, /tmp and every file a server writes must be on a writable volume.
  const writable = mounts.filter(
    (mount) =>
      !mount.readOnly &&
      (volumes.get(mount.name)?.emptyDir || volumes.get(mount.name)?.persistentVolumeClaim),
  );
  for (const path of ['/tmp/x', '/var/lib/mcplane/mcplane.db', ...serverStatePaths(config)])
    expect(
      writable.some((mount) => path.startsWith(`${mount.mountPath}/`)),
      path,
    ).toBe(true);
}

function expectObjectsSelectThePods(manifests: Manifest[]): void {
  const deployment = findManifest<DeploymentManifest>(manifests, 'Deployment', 'mcplane');
  const podLabels = deployment.spec.template.metadata.labels;
  const matches = (selector: Record<string, string> | undefined): boolean =>
    selector !== undefined &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => podLabels[key] === value);
  type Spec<T> = Manifest & { spec: T };

  const service = findManifest<
    Spec<{ selector: Record<string, string>; ports: { name: string; targetPort: string }[] }>
  >(manifests, 'Service');
  expect(matches(service.spec.selector)).toBe(true);
  const portNames = gatewayPod(deployment).container.ports?.map((port) => port.name);
  for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);

  const pdb = findManifest<Spec<{ selector: { matchLabels: Record<string, string> } }>>(
    manifests,
    'PodDisruptionBudget',
  );
  expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
  const policy = findManifest<Spec<{ podSelector: { matchLabels: Record<string, string> } }>>(
    manifests,
    'NetworkPolicy',
  );
  expect(matches(policy.spec.podSelector.matchLabels)).toBe(true);
  const hpa = findManifest<Spec<{ scaleTargetRef: { kind: string; name: string } }>>(
    manifests,
    'HorizontalPodAutoscaler',
  );
  expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });

  const monitor = findManifest<
    Spec<{ selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] }>
  >(manifests, 'ServiceMonitor');
  const serviceLabels = service.metadata.labels ?? {};
  expect(Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => serviceLabels[k] === v)).toBe(
    true,
  );
  for (const endpoint of monitor.spec.endpoints) {
    expect(service.spec.ports.map((port) => port.name)).toContain(endpoint.port);
    expect(endpoint.path).toBe('/metrics');
  }
}

function problemsOf(manifests: readonly unknown[]): string[] {
  return manifests.flatMap((manifest) => manifestProblems(manifest));
}

describe('the Kubernetes manifests', () => {
  it('every resource file of the base and the production overlay is valid against the Kubernetes schemas', () => {
    const base = readKustomization(filled.base);
    const production = readKustomization(filled.production);
    const kinds = production.resources.map((manifest) => manifest.kind).sort();
    expect(kinds).toEqual([
      'Deployment',
      'HorizontalPodAutoscaler',
      'Namespace',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'ServiceMonitor',
    ]);
    expect(problemsOf(base.resources)).toEqual([]);
    expect(problemsOf(production.resources)).toEqual([]);
  });

  it('the kustomizations refer only to files that exist and patch only objects that exist', () => {
    const base = readKustomization(filled.base);
    const production = readKustomization(filled.production);
    expect(base.problems).toEqual([]);
    expect(production.problems).toEqual([]);
    expect(base.generated.map((object) => `${object.kind} ${object.metadata.name}`).sort()).toEqual([
      'ConfigMap mcplane-config',
      'Secret mcplane-secrets',
    ]);
  });

  it('every YAML file under deploy/kubernetes is used by a kustomization', () => {
    const used = new Set([
      ...readKustomization(filled.base).files,
      ...readKustomization(filled.production).files,
    ]);
    const root = join(work, 'kubernetes');
    const yamlFiles = (readdirSync(root, { recursive: true }) as string[])
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => join(root, name));
    expect(yamlFiles.length).toBeGreaterThan(8);
    expect(yamlFiles.filter((file) => !used.has(file)).map((file) => relative(root, file))).toEqual([]);
  });

  it('the production overlay keeps its secrets.env out of git, so the build fails rather than deploys placeholders', () => {
    expect(() =>
      execFileSync('git', ['check-ignore', '-q', join(PRODUCTION, 'secrets.env')], { cwd: repoPath('') }),
    ).not.toThrow();
    rmSync(join(filled.production, 'secrets.env'));
    try {
      expect(readKustomization(filled.production).problems).toEqual([
        expect.stringMatching(/Secret generator "mcplane-secrets": "secrets.env" does not exist$/),
      ]);
    } finally {
      writeFileSync(join(filled.production, 'secrets.env'), envFileText(secrets));
    }
  });
});

describe('the validators cannot pass vacuously', () => {
  it('a Deployment whose replicas is a string is rejected by the schema validator', () => {
    const deployment = findManifest<DeploymentManifest>(
      readYamlDocuments(join(BASE, 'deployment.yaml')) as Manifest[],
      'Deployment',
    );
    expect(manifestProblems(deployment)).toEqual([]);
    const broken = structuredClone(deployment);
    (broken.spec as { replicas: unknown }).replicas = 'two';
    expect(manifestProblems(broken)).toEqual([
      expect.stringContaining('Deployment mcplane: data/spec/replicas must be integer'),
    ]);
    const badPort = structuredClone(deployment);
    (gatewayPod(badPort).container.ports as unknown[])[0] = { name: 'http', containerPort: 'eighty' };
    expect(manifestProblems(badPort).join('\n')).toMatch(/containerPort must be integer/);
  });

  it('a ServiceMonitor with a malformed interval and an object of an unknown kind are rejected', () => {
    const [monitor] = readYamlDocuments(join(BASE, 'servicemonitor.yaml')) as Manifest[];
    const broken = structuredClone(monitor) as Manifest & { spec: { endpoints: { interval: string }[] } };
    (broken.spec.endpoints[0] as { interval: string }).interval = 'thirty seconds';
    expect(manifestProblems(broken).join('\n')).toMatch(/endpoints\/0\/interval must match pattern/);
    expect(manifestProblems({ apiVersion: 'v1', kind: 'Pdo', metadata: { name: 'x' } })).toEqual([
      'no schema known for v1 Pdo',
    ]);
  });

  it('the kustomization check reports a missing resource, a patch of a missing object and an unknown field', () => {
    const dir = join(work, 'broken');
    mkdirSync(dir);
    cpSync(join(BASE, 'deployment.yaml'), join(dir, 'deployment.yaml'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'resources: [deployment.yaml, service.yaml]',
        'resource: [typo.yaml]',
        'images: [{ name: nginx, newTag: "1" }]',
        'configMapGenerator: [{ name: cfg, files: [missing.yaml] }]',
        'patches:',
        '  - target: { kind: Deployment, name: mcplane }',
        '    patch: "[{op: replace, path: /spec/paused, value: true}]"',
        '  - target: { kind: Service, name: nope }',
        '    patch: "[{op: add, path: /spec/type, value: NodePort}]"',
        '  - patch: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: mcplane}, spec: {template: {spec: {containers: [{name: sidecar}]}}}}"',
      ].join('\n'),
    );
    const problems = readKustomization(dir).problems.map((problem) =>
      problem.replace(/^.*kustomization\.yaml: /, ''),
    );
    expect(problems).toEqual([
      'unknown field "resource"',
      'resources: "service.yaml" does not exist',
      'ConfigMap generator "cfg": "missing.yaml" does not exist',
      'patches: Deployment mcplane has no /spec/paused',
      'patches: no Service named "nope" to patch',
      'patches: Deployment mcplane has no container "sidecar"',
      'images: no container uses image "nginx"',
    ]);
  });
});

/** The status of GET `path` on `origin` with a chosen Host header (fetch does not let one set it). */
function statusFor(origin: string, path: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const outgoing = request(new URL(path, origin), { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('the Deployment fits the gateway it runs', () => {
  afterEach(async () => {
    expect(await stopHttpGateways()).toEqual([]);
  });

  const configText = (): string => readFileSync(join(BASE, CONFIG_FILE), 'utf8');
  const deployment = (): DeploymentManifest =>
    findManifest<DeploymentManifest>(
      readYamlDocuments(join(BASE, 'deployment.yaml')) as Manifest[],
      'Deployment',
    );

  it('the mounted config validates with the environment the pod gets, and names files the image has', () => {
    const { config } = podStart(deployment(), configText(), {
      namespace: 'mcplane',
      secrets: { 'mcplane-secrets': secrets },
    });
    expect(config.gateway.auth.apiKeys.pepper).toBe(secrets.MCPLANE_KEY_PEPPER);
    expect(config.gateway.http.allowedHosts).toEqual(
      expect.arrayContaining(['localhost', 'mcplane.mcplane.svc', 'mcplane.mcplane.svc.cluster.local']),
    );
    expect(imagePathProblems(config)).toEqual([]);
  });

  it('the admin listener serves /metrics on the container port the ServiceMonitor scrapes', () => {
    const { config } = podStart(deployment(), configText(), {
      namespace: 'mcplane',
      secrets: { 'mcplane-secrets': secrets },
    });
    const metrics = gatewayPod(deployment()).container.ports?.find((port) => port.name === 'metrics');
    // On every interface of the pod: Prometheus scrapes by pod IP.
    expect(config.gateway.admin.listen).toEqual({ host: '0.0.0.0', port: metrics?.containerPort });
    expect(config.gateway.metrics.enabled).toBe(true);
  });

  it("the base's placeholder secrets are refused, so a pod built from the base does not start", () => {
    const placeholders = parseEnvFile(readFileSync(join(BASE, 'secrets.env'), 'utf8'));
    expect(Object.keys(placeholders)).toEqual(
      expect.arrayContaining(['MCPLANE_MASTER_KEY', 'MCPLANE_KEY_PEPPER', 'DATABASE_URL', 'REDIS_URL']),
    );
    const load = (): PodStart =>
      podStart(deployment(), configText(), {
        namespace: 'mcplane',
        secrets: { 'mcplane-secrets': placeholders },
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/pepper needs at least 32 characters/);
  });

  it('probes, grace period, security context and mounts match the gateway', () => {
    const start = podStart(deployment(), configText(), {
      namespace: 'mcplane',
      secrets: { 'mcplane-secrets': secrets },
    });
    expectDeploymentFitsTheGateway(deployment(), start);
  });

  it('a grace period shorter than preStop plus shutdownGrace plus the stop ladder is caught', () => {
    const start = podStart(deployment(), configText(), {
      namespace: 'mcplane',
      secrets: { 'mcplane-secrets': secrets },
    });
    const short = deployment();
    (short.spec.template.spec as GatewayPod).terminationGracePeriodSeconds = 15;
    expect(() => expectDeploymentFitsTheGateway(short, start)).toThrow(
      /expected 15 to be greater than or equal to \d+/,
    );
  });

  it('the Service, PDB, NetworkPolicy, HPA and ServiceMonitor all select the Deployment', () => {
    expectObjectsSelectThePods(readKustomization(filled.base).resources);
  });

  it("the probes' Host header gets /ready past a real gateway's Host guard, where the pod IP would be refused", async () => {
    const { container } = gatewayPod(deployment());
    const { config } = podStart(deployment(), configText(), {
      namespace: 'mcplane',
      secrets: { 'mcplane-secrets': secrets },
    });
    const http = await startHttpGateway({
      gateway: { http: { allowedHosts: config.gateway.http.allowedHosts } },
      servers: { fixture: fixtureServer() },
      tenants: { acme: { name: 'Acme', apiKeys: [newApiKey().entry] } },
    });
    const probeHost = container.readinessProbe?.httpGet?.httpHeaders?.find(
      (header) => header.name === 'Host',
    );
    const podIp = '10.244.1.17:8080';
    expect(await statusFor(http.origin, '/ready', probeHost?.value ?? '')).toBe(200);
    expect(await statusFor(http.origin, '/ready', podIp)).toBe(403);
    // The liveness and startup probes send no Host header of their own: /health must not need one.
    expect(container.livenessProbe?.httpGet?.httpHeaders).toBeUndefined();
    expect(await statusFor(http.origin, '/health', podIp)).toBe(200);
  });

  it('the NetworkPolicy lets MCP in on 8080 only and lets out only DNS, PostgreSQL and Redis', () => {
    type Port = { protocol: string; port: number };
    const policy = findManifest<
      Manifest & { spec: { ingress: { ports: Port[] }[]; egress: { ports: Port[] }[] } }
    >(readYamlDocuments(join(BASE, 'networkpolicy.yaml')) as Manifest[], 'NetworkPolicy');
    const ports = (rules: { ports: Port[] }[]): string[] =>
      rules.flatMap((rule) => rule.ports.map((port) => `${port.protocol}/${port.port}`)).sort();
    expect(ports(policy.spec.ingress)).toEqual(['TCP/8080', 'TCP/9464']);
    expect(ports(policy.spec.egress)).toEqual(['TCP/53', 'TCP/5432', 'TCP/6379', 'UDP/53']);
  });
});

describe.skipIf(!kustomize)(
  `the kustomizations built by ${kustomize?.version ?? 'kustomize (not installed)'}`,
  () => {
    const build = (dir: string): Manifest[] =>
      parseYamlDocuments(kustomize?.build(dir) ?? '', dir) as Manifest[];

    it('every object kustomize renders for the base and the production overlay is valid', () => {
      const base = build(filled.base);
      const production = build(filled.production);
      expect(base.map((object) => object.kind).sort()).toEqual([
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceMonitor',
      ]);
      expect(problemsOf(base)).toEqual([]);
      expect(problemsOf(production)).toEqual([]);
    });

    it('the production overlay renders its namespace, image, replicas, resources and hosts', () => {
      const production = build(filled.production);
      for (const object of production)
        expect(object.kind === 'Namespace' ? object.metadata.name : object.metadata.namespace).toBe(
          'mcplane',
        );
      const deployment = findManifest<DeploymentManifest>(production, 'Deployment', 'mcplane');
      const { container } = gatewayPod(deployment);
      expect(deployment.spec.replicas).toBe(3);
      expect(container.image).toBe('registry.example.com/mcplane:0.1.0');
      expect(container.resources).toEqual({
        requests: { cpu: '1', memory: '1Gi' },
        limits: { cpu: '4', memory: '4Gi' },
      });
      expect(container.env?.filter((entry) => entry.name === 'MCPLANE_PUBLIC_HOST')).toEqual([
        { name: 'MCPLANE_PUBLIC_HOST', value: 'mcp.example.com' },
      ]);
      const hpa = findManifest<Manifest & { spec: { minReplicas: number; maxReplicas: number } }>(
        production,
        'HorizontalPodAutoscaler',
      );
      expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 20 });
      expectObjectsSelectThePods(production);
    });

    it('the rendered pod loads its config from the rendered ConfigMap and Secret, and fits the gateway', () => {
      const production = build(filled.production);
      // Unhashed, so an edit reaches the running pods' mounted file instead of renaming the ConfigMap.
      const configMap = findManifest<Manifest & { data: Record<string, string> }>(production, 'ConfigMap');
      expect(configMap.metadata.name).toBe('mcplane-config');
      const secret = findManifest(production, 'Secret');
      expect(secret.metadata.name).toMatch(/^mcplane-secrets-[a-z0-9]{10}$/);
      expect(secretData(secret)).toEqual(secrets);

      const deployment = findManifest<DeploymentManifest>(production, 'Deployment', 'mcplane');
      const start = podStart(deployment, configMap.data[CONFIG_FILE] ?? '', {
        namespace: 'mcplane',
        secrets: { [secret.metadata.name]: secretData(secret) },
      });
      expect(start.config.gateway.http.publicUrl).toBe('https://mcp.example.com');
      expect(start.config.gateway.http.allowedHosts).toContain('mcp.example.com');
      expectDeploymentFitsTheGateway(deployment, start);
    });

    it('kustomize refuses the production overlay without its secrets.env', () => {
      rmSync(join(filled.production, 'secrets.env'));
      try {
        expect(() => build(filled.production)).toThrow(/secrets\.env/);
      } finally {
        writeFileSync(join(filled.production, 'secrets.env'), envFileText(secrets));
      }
    });
  },
);
