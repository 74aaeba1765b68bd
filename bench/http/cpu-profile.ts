/**
 * Reads a V8 `.cpuprofile` (as written by `node --cpu-prof`) and says where the time went: self
 * time by package or source file, and the functions with the most self and inclusive time.
 */
import { readFileSync } from 'node:fs';
import { table } from '../lib/stats.ts';

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** Where a frame lives: a dependency, a mcplane source file, a Node internal module, or V8 itself. */
function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (dependency) {
    const [, name = '', file = ''] = dependency;
    return name === '@modelcontextprotocol/sdk' ? `sdk ${file.split('/').pop() ?? ''}` : name;
  }
  const source = /\/((?:src|bin)\/.*)$/.exec(url);
  if (source) return source[1] ?? url;
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  return url;
}

const frameName = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bin)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};

/** True for a stack inside Node's module loader: start-up, not serving. */
const isStartup = (url: string): boolean =>
  url.startsWith('node:internal/modules/') || url.startsWith('node:internal/main/');

export function summarizeProfile(file: string, top = 20): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byArea = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number): void => {
    map.set(key, (map.get(key) ?? 0) + ms);
  };
  let busy = 0;
  let startup = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    // A sample's time is the gap to the next one (V8 records the gap before each sample).
    const ms = (profile.timeDeltas[index + 1] ?? 0) / 1000;
    if (!node || ms <= 0 || node.callFrame.functionName === '(idle)') return;
    const stack: ProfileNode[] = [];
    for (let at: ProfileNode | undefined = node; at; at = parent.get(at.id)) stack.push(at);
    if (stack.some((frame) => isStartup(frame.callFrame.url))) {
      startup += ms;
      return;
    }
    busy += ms;
    add(byArea, area(node.callFrame.url, node.callFrame.functionName), ms);
    add(self, frameName(node), ms);
    // Inclusive: every distinct JavaScript frame on the stack, counted once per sample.
    const onStack = new Set(stack.filter((frame) => frame.callFrame.url !== '').map(frameName));
    for (const name of onStack) add(inclusive, name, ms);
  });
  const rank = (map: Map<string, number>, header: string): string =>
    table([
      [header, 'ms', '% of busy'],
      ...[...map.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, ms]) => [name, ms.toFixed(0), ((ms / busy) * 100).toFixed(1)]),
    ]);
  return [
    `busy CPU while serving: ${busy.toFixed(0)} ms (start-up, left out: ${startup.toFixed(0)} ms)`,
    '',
    'Self time by area',
    rank(byArea, 'area'),
    '',
    'Functions by self time',
    rank(self, 'function'),
    '',
    'Functions by inclusive time (JavaScript frames only)',
    rank(inclusive, 'function'),
  ].join('\n');
}
