/**
 * Tool poisoning at first sight: a tool's own definition is text a model reads before any call,
 * and the classic MCP attack hides instructions there (an `<IMPORTANT>` block telling the model
 * to read `~/.ssh/id_rsa` and pass it in an argument). Pinning calls this when it first sees a
 * tool, and again for a changed definition.
 *
 * It runs the input detectors over the name, title, description, annotation title, and every
 * string of `inputSchema` and `outputSchema` (property descriptions, defaults, enums). It only
 * reports: each finding carries the action the profile sets for input, for the caller to act on.
 */
import { createExfiltrationLinksDetector } from './detectors/exfiltration-links.ts';
import { createHiddenCharactersDetector } from './detectors/hidden-characters.ts';
import { createInstructionOverrideDetector } from './detectors/instruction-override.ts';
import { createSecretsDetector } from './detectors/secrets.ts';
import { createTerminalEscapesDetector } from './detectors/terminal-escapes.ts';
import { DEFAULT_ENTROPY, type ActiveDetector } from './guard-profiles.ts';
import type { Finding } from './pipeline.ts';
import { walkStrings } from './text-walk.ts';

/** What of a tool definition is scanned; other members are ignored. */
export type ToolDefinition = {
  readonly name: string;
  readonly title?: unknown;
  readonly description?: unknown;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
  readonly annotations?: unknown;
};

/** The input detectors with their default actions, for callers without a profile. */
export const DEFAULT_DEFINITION_DETECTORS: readonly ActiveDetector[] = [
  { detector: createTerminalEscapesDetector(), action: 'redact' },
  { detector: createHiddenCharactersDetector(), action: 'redact' },
  { detector: createSecretsDetector({ entropy: DEFAULT_ENTROPY }), action: 'flag' },
  { detector: createExfiltrationLinksDetector({ allowHosts: [], links: 'with-query' }), action: 'flag' },
  { detector: createInstructionOverrideDetector(), action: 'flag' },
];

export function scanToolDefinition(
  tool: ToolDefinition,
  detectors: readonly ActiveDetector[] = DEFAULT_DEFINITION_DETECTORS,
): Finding[] {
  const findings: Finding[] = [];
  const scan = (text: string, where: string): string => {
    for (const { detector, action } of detectors) {
      if (detector.name === 'oversized-output') continue;
      const hits = detector.scan(text);
      if (hits.length === 0) continue;
      const kinds = [...new Set(hits.map((hit) => hit.detail))].join('; ');
      findings.push({ detector: detector.name, action, where, detail: kinds });
    }
    return text;
  };
  const annotations = tool.annotations as { title?: unknown } | undefined;
  const parts: [string, unknown][] = [
    ['tool.name', tool.name],
    ['tool.title', tool.title],
    ['tool.description', tool.description],
    ['tool.annotations.title', annotations?.title],
    ['tool.inputSchema', tool.inputSchema],
    ['tool.outputSchema', tool.outputSchema],
  ];
  for (const [where, value] of parts) {
    if (value !== undefined) walkStrings(value, where, 'all-strings', scan);
  }
  return findings;
}
