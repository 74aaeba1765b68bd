/**
 * What the top-level Dockerfile must do (issue 11, "Deployment"), read from its syntax tree with
 * dockerfile-ast: a stand-in for hadolint, which neither npm nor Debian packages. Each rule is a
 * sentence in the problem list, so a broken Dockerfile says which rule it breaks.
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export const NODE_SLIM = /^node:24(?:[.\w-]*)?-slim$/;

export type Stage = { name: string | undefined; image: string; instructions: Instruction[] };

/** The final stage's exec-form arguments of `keyword`, or undefined when it is absent or in shell form. */
export function execForm(stage: Stage, keyword: string): string[] | undefined {
  const instruction = stage.instructions.findLast((candidate) => candidate.getKeyword() === keyword);
  if (!instruction) return undefined;
  const text = instruction.getArgumentsContent() ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function stages(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const result: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', as, name] = instruction.getArguments().map((argument) => argument.getValue());
      const line = instruction.getRange().start.line;
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (ref, variable: string) =>
        String(dockerfile.resolveVariable(variable, line) ?? ref),
      );
      result.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, image: resolved, instructions: [] });
    } else {
      result.at(-1)?.instructions.push(instruction);
    }
  }
  return result;
}

/** The stage a COPY takes from (`--from=`), or undefined for the build context. */
export const copyFrom = (copy: Instruction): string | undefined =>
  (copy as Instruction & { getFlags(): { getName(): string; getValue(): string | null }[] })
    .getFlags()
    .find((flag) => flag.getName() === 'from')
    ?.getValue() ?? undefined;

const args = (instruction: Instruction): string[] => instruction.getArguments().map((arg) => arg.getValue());
const of = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((instruction) => instruction.getKeyword() === keyword);

/** Every rule the Dockerfile breaks; empty when it follows them all. */
export function dockerfileProblems(text: string): string[] {
  const all = stages(text);
  const problems: string[] = [];
  const final = all.at(-1);
  if (!final || all.length < 2) return ['the build is not multi-stage (at least two FROMs)'];
  const names = new Set(all.map((stage) => stage.name));
  for (const stage of all)
    if (!NODE_SLIM.test(stage.image) && !names.has(stage.image))
      problems.push(`FROM ${stage.image} is neither node:24…-slim nor an earlier stage`);

  const builder = all.find((stage) =>
    of(stage, 'RUN').some((run) => /\bnpm ci\b[^&|;]*--omit=dev/.test(run.getArgumentsContent() ?? '')),
  );
  if (!builder || builder === final) problems.push('no build stage runs `npm ci --omit=dev`');
  const copiesModules = of(final, 'COPY').some(
    (copy) => copyFrom(copy) === builder?.name && args(copy).some((arg) => arg.includes('node_modules')),
  );
  if (builder && !copiesModules)
    problems.push(`the final stage does not copy node_modules from ${builder.name}`);

  const install = of(final, 'RUN')
    .map((run) => run.getArgumentsContent() ?? '')
    .find((command) => /apt-get install/.test(command));
  for (const pkg of ['tini', 'bubblewrap'])
    if (!install || !new RegExp(`\\b${pkg}\\b`).test(install))
      problems.push(`the final stage does not install ${pkg}`);

  const positions = (keyword: string): number[] =>
    of(final, keyword).map((instruction) => instruction.getRange().start.line);
  const userLine = positions('USER').at(-1);
  const cmdLine = positions('CMD').at(-1);
  const user = of(final, 'USER').at(-1)?.getArgumentsContent()?.split(':')[0];
  if (user === undefined || user === 'root' || user === '0')
    problems.push('the final stage runs as root (no USER)');
  else if (cmdLine !== undefined && userLine !== undefined && userLine > cmdLine)
    problems.push('USER comes after CMD');

  const entrypoint = execForm(final, 'ENTRYPOINT');
  if (!entrypoint || !/(^|\/)tini(-static)?$/.test(entrypoint[0] ?? ''))
    problems.push('ENTRYPOINT is not tini in exec form');

  const cmd = execForm(final, 'CMD');
  if (!cmd) problems.push('CMD is not in exec form');
  else {
    if (cmd.slice(0, 3).join(' ') !== 'node bin/mcplane.js serve')
      problems.push('CMD does not run `node bin/mcplane.js serve`');
    if (cmd.some((word) => /^(npm|npx|yarn|pnpm)$/.test(word)))
      problems.push('CMD goes through a package manager');
    if (cmd[cmd.indexOf('--host') + 1] !== '0.0.0.0' || !cmd.includes('--host'))
      problems.push('CMD does not pass --host 0.0.0.0');
    if (!cmd.includes('--config')) problems.push('CMD does not pass --config');
  }

  const healthcheck = of(final, 'HEALTHCHECK').at(-1)?.getArgumentsContent() ?? '';
  if (!/\bCMD\b[\s\S]*\/health\b/.test(healthcheck)) problems.push('no HEALTHCHECK on /health');
  const volumes = of(final, 'VOLUME').flatMap((volume) => volumeArgs(volume.getArgumentsContent() ?? ''));
  if (!volumes.includes('/var/lib/mcplane')) problems.push('no VOLUME at /var/lib/mcplane');
  if (!of(final, 'EXPOSE').some((expose) => args(expose).some((port) => /^8080(\/tcp)?$/.test(port))))
    problems.push('port 8080 is not EXPOSEd');
  return problems;
}

function volumeArgs(content: string): string[] {
  try {
    const parsed: unknown = JSON.parse(content);
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // Shell form: space-separated paths.
  }
  return content.split(/\s+/).filter(Boolean);
}
