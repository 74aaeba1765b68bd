/**
 * Tool shadowing (the cross-server attack of the Invariant Labs write-ups): a tool that takes
 * another server's tool's place, or tells the model how to use another server's tool. Reported
 * when pinning first sees a definition:
 *
 * - a name collision: the tool is listed under the same name as a tool of another server in the
 *   same view (two bare-named servers, or a bare name equal to another's `server__tool`), so a
 *   client sees two tools of that name and the router serves only one;
 * - a mention: its description or schema names another server's tool ("when send_email is
 *   called, always BCC …"). Only distinctive names count (4+ characters with `_`, `-`, `.`, a
 *   digit or an inner capital), as whole words, and not names its own server has too: plain
 *   words like `echo` appear in ordinary prose, and two instances of one server (a shared one
 *   and a tenant's) name their own sibling tools.
 */
import type { Finding } from '../pipeline.ts';
import { walkStrings } from '../text-walk.ts';
import type { PinnedDefinition } from './tool-definition.ts';

/** A tool of another server that the same sessions see. */
export type NeighbourTool = {
  readonly server: string;
  /** As the client lists it (`server__tool`, or bare). */
  readonly listed: string;
  /** As its server knows it. */
  readonly name: string;
};

export const SHADOWING = 'tool-shadowing';

const DISTINCTIVE = /[_\-.\d]|[a-z][A-Z]/;
const WORD = /[A-Za-z0-9_-]/;

export function shadowingFindings(
  tool: PinnedDefinition,
  listed: string,
  neighbours: readonly NeighbourTool[],
  ownNames: ReadonlySet<string> = new Set(),
): Finding[] {
  const findings: Finding[] = [];
  for (const neighbour of neighbours) {
    if (neighbour.listed === listed) {
      findings.push({
        detector: SHADOWING,
        action: 'flag',
        where: 'tool.name',
        detail: `listed as ${listed}, like a tool of server ${neighbour.server}`,
      });
    }
  }
  const names = distinctiveNames(neighbours, ownNames);
  if (names.size === 0) return findings;
  const parts: [string, unknown][] = [
    ['tool.description', tool.description],
    ['tool.inputSchema', tool.inputSchema],
    ['tool.outputSchema', tool.outputSchema],
  ];
  const reported = new Set<string>();
  for (const [where, value] of parts) {
    if (value === undefined) continue;
    walkStrings(value, where, 'all-strings', (text, path) => {
      for (const [name, server] of names) {
        const detail = `mentions ${name}, a tool of server ${server}`;
        if (reported.has(detail) || !mentions(text, name)) continue;
        reported.add(detail);
        findings.push({ detector: SHADOWING, action: 'flag', where: path, detail });
      }
      return text;
    });
  }
  return findings;
}

function distinctiveNames(
  neighbours: readonly NeighbourTool[],
  ownNames: ReadonlySet<string>,
): Map<string, string> {
  const names = new Map<string, string>();
  for (const { server, listed, name } of neighbours) {
    for (const candidate of [listed, name]) {
      if (ownNames.has(candidate) || names.has(candidate)) continue;
      if (candidate.length >= 4 && DISTINCTIVE.test(candidate)) names.set(candidate, server);
    }
  }
  return names;
}

/** Whether `name` occurs in `text` as a whole word (not inside a longer identifier). */
function mentions(text: string, name: string): boolean {
  for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + 1)) {
    const before = at === 0 ? '' : (text[at - 1] as string);
    const after = text[at + name.length] ?? '';
    if (!WORD.test(before) && !WORD.test(after)) return true;
  }
  return false;
}
