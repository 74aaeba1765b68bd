import { describe, expect, it } from 'vitest';
import type { Classifier } from '../../src/guard/classifier.ts';
import { GuardProfiles, type GuardProfile } from '../../src/guard/guard-profiles.ts';
import { guardReferenceIssues, GuardsSchema } from '../../src/guard/guard-schema.ts';

const actions = (profile: GuardProfile, direction: 'input' | 'output'): Record<string, string> =>
  Object.fromEntries(profile[direction].map(({ detector, action }) => [detector.name, action]));

const profiles = (guards: unknown, classifier?: Classifier): GuardProfiles =>
  new GuardProfiles(GuardsSchema.parse(guards), classifier ? { classifier } : {});

const fakeClassifier: Classifier = {
  classify: () => Promise.resolve({ score: 0, flagged: false }),
  failMode: 'open',
  maxChars: 1000,
};

describe('guard profiles', () => {
  it('turn every detector on by default, with the documented actions', () => {
    const profile = profiles({}).profile('acme', 'files');
    expect(actions(profile, 'input')).toEqual({
      'terminal-escapes': 'redact',
      'hidden-characters': 'redact',
      secrets: 'flag',
      'exfiltration-links': 'flag',
      'instruction-override': 'flag',
    });
    expect(actions(profile, 'output')).toEqual({
      'oversized-output': 'redact',
      'terminal-escapes': 'redact',
      'hidden-characters': 'redact',
      secrets: 'redact',
      'exfiltration-links': 'redact',
      'instruction-override': 'flag',
    });
    expect(profile.responseValidation).toBe('flag');
    expect(profile.classifier).toBeUndefined();
  });

  it('run detectors in order: size, terminal, hidden, secrets, links, phrases', () => {
    const names = profiles({})
      .profile('acme', undefined)
      .output.map(({ detector }) => detector.name);
    expect(names).toEqual([
      'oversized-output',
      'terminal-escapes',
      'hidden-characters',
      'secrets',
      'exfiltration-links',
      'instruction-override',
    ]);
  });

  it('apply layers in order: guards, server, tenant, tenant server', () => {
    const guards = {
      detectors: { 'instruction-override': { output: 'redact' } },
      servers: { web: { detectors: { 'instruction-override': { output: 'block' } } } },
      tenants: {
        acme: {
          detectors: { secrets: { input: 'block' } },
          servers: { web: { detectors: { 'instruction-override': { output: 'flag' } } } },
        },
      },
    };
    const compiled = profiles(guards);
    expect(actions(compiled.profile('other', 'files'), 'output')['instruction-override']).toBe('redact');
    expect(actions(compiled.profile('other', 'web'), 'output')['instruction-override']).toBe('block');
    expect(actions(compiled.profile('acme', 'files'), 'input').secrets).toBe('block');
    expect(actions(compiled.profile('acme', 'web'), 'output')['instruction-override']).toBe('flag');
    expect(actions(compiled.profile('acme', 'web'), 'input').secrets).toBe('block');
  });

  it('turn a detector off with enabled: false, or one direction with off', () => {
    const compiled = profiles({
      detectors: { secrets: { enabled: false }, 'terminal-escapes': { input: 'off' } },
      tenants: { acme: { detectors: { secrets: { enabled: true } } } },
    });
    const other = compiled.profile('other', undefined);
    expect(actions(other, 'output').secrets).toBeUndefined();
    expect(actions(other, 'input')['terminal-escapes']).toBeUndefined();
    expect(actions(other, 'output')['terminal-escapes']).toBe('redact');
    // Back on in a later layer: the defaults return.
    expect(actions(compiled.profile('acme', undefined), 'output').secrets).toBe('redact');
  });

  it('add allowlisted hosts up across layers', () => {
    const compiled = profiles({
      allowHosts: ['github.com'],
      tenants: { acme: { allowHosts: ['docs.acme.example'] } },
    });
    const links = (tenant: string) =>
      compiled
        .profile(tenant, undefined)
        .output.find(({ detector }) => detector.name === 'exfiltration-links')?.detector;
    const text = '![a](https://github.com/x.png) ![b](https://docs.acme.example/y.png)';
    expect(links('acme')?.scan(text)).toEqual([]);
    expect(links('other')?.scan(text).length).toBe(1);
  });

  it('take the output size and entropy settings per layer', () => {
    const compiled = profiles({ maxOutputSize: '1kb', servers: { big: { maxOutputSize: '4mb' } } });
    const oversized = (server: string) =>
      compiled.profile('acme', server).output.find(({ detector }) => detector.name === 'oversized-output')
        ?.detector;
    expect(oversized('small')?.scan('x'.repeat(2000)).length).toBe(1);
    expect(oversized('big')?.scan('x'.repeat(2000))).toEqual([]);
  });

  it('are empty when guards are disabled', () => {
    const profile = profiles({ enabled: false }).profile('acme', 'files');
    expect(profile.input).toEqual([]);
    expect(profile.output).toEqual([]);
    expect(profile.responseValidation).toBe('off');
  });

  it('carry the classifier with its actions, and let a layer turn it off', () => {
    const compiled = profiles(
      {
        classifier: { url: 'http://127.0.0.1:9/classify', input: 'block', output: 'flag' },
        tenants: { quiet: { classifier: { enabled: false } }, strict: { classifier: { output: 'block' } } },
      },
      fakeClassifier,
    );
    expect(compiled.profile('acme', undefined).classifier).toMatchObject({ input: 'block', output: 'flag' });
    expect(compiled.profile('quiet', undefined).classifier).toBeUndefined();
    expect(compiled.profile('strict', undefined).classifier).toMatchObject({
      input: 'block',
      output: 'block',
    });
  });

  it('build each (tenant, server) profile once', () => {
    const compiled = profiles({});
    expect(compiled.profile('acme', 'files')).toBe(compiled.profile('acme', 'files'));
    expect(compiled.profile('acme', 'files')).not.toBe(compiled.profile('acme', 'web'));
  });
});

describe('guards schema', () => {
  it('refuses an unknown detector, action or key with its path', () => {
    const bad = GuardsSchema.safeParse({
      detectors: { 'made-up': {} },
      servers: { web: { detectors: { secrets: { output: 'shout' } } } },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('detectors');
    expect(paths).toContain('servers.web.detectors.secrets.output');
  });

  it('refuses host patterns that are not host names', () => {
    for (const host of ['https://github.com', 'git hub.com', '*', 'a/b', '*.']) {
      expect(GuardsSchema.safeParse({ allowHosts: [host] }).success, host).toBe(false);
    }
    expect(
      GuardsSchema.safeParse({ allowHosts: ['github.com', '*.example.com', 'bücher.example'] }).success,
    ).toBe(true);
  });

  it('gives the classifier its defaults, and wants an http(s) URL', () => {
    const parsed = GuardsSchema.parse({ classifier: { url: 'https://guard.example/v1/classify' } });
    expect(parsed.classifier).toMatchObject({
      timeout: 1000,
      failMode: 'open',
      threshold: 0.5,
      bodyField: 'text',
      cacheSize: 1000,
    });
    expect(GuardsSchema.safeParse({ classifier: { url: 'file:///etc/passwd' } }).success).toBe(false);
  });

  it('reports servers and tenants the config does not define', () => {
    const guards = GuardsSchema.parse({
      servers: { ghost: {} },
      tenants: { nobody: { servers: { ghost: {} } }, acme: {} },
    });
    expect(guardReferenceIssues(guards, new Set(['files']), new Set(['acme']))).toEqual([
      { path: ['servers', 'ghost'], message: 'unknown server "ghost"' },
      { path: ['tenants', 'nobody'], message: 'unknown tenant "nobody"' },
      { path: ['tenants', 'nobody', 'servers', 'ghost'], message: 'unknown server "ghost"' },
    ]);
  });
});
