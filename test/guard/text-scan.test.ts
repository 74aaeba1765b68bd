import { describe, expect, it } from 'vitest';
import type { Detector } from '../../src/guard/detectors/detector.ts';
import { createSecretsDetector } from '../../src/guard/detectors/secrets.ts';
import type { ActiveDetector } from '../../src/guard/guard-profiles.ts';
import type { Finding } from '../../src/guard/pipeline.ts';
import { scanText } from '../../src/guard/text-scan.ts';

const AWS = 'AKIA2E3A7F3B2Z4CQ6RT';

/** A detector that counts its scans, around the real secrets detector. */
function counted(): { detector: Detector; scans: () => number } {
  const inner = createSecretsDetector({ entropy: { threshold: 4, minLength: 32 } });
  let scans = 0;
  return {
    detector: {
      name: inner.name,
      scan(text) {
        scans++;
        return inner.scan(text);
      },
    },
    scans: () => scans,
  };
}

describe('scanText', () => {
  it('a text seen again by the same detectors gets the same outcome without a second scan, at its own place', () => {
    const { detector, scans } = counted();
    const active: ActiveDetector[] = [{ detector, action: 'redact' }];
    const first: Finding[] = [];
    const again: Finding[] = [];
    const a = scanText(`key ${AWS}`, active, 'args.a', first);
    const b = scanText(`key ${AWS}`, active, 'args.b', again);
    expect(b).toEqual(a);
    expect(a.text).not.toContain(AWS);
    expect(again).toEqual(first.map((finding) => ({ ...finding, where: 'args.b' })));
    expect(scans()).toBe(1);
    scanText(`other ${AWS}`, active, 'args.c', []);
    expect(scans()).toBe(2);
  });

  it('a blocking outcome blocks again, naming the new place', () => {
    const { detector } = counted();
    const active: ActiveDetector[] = [{ detector, action: 'block' }];
    scanText(AWS, active, 'args.x', []);
    const findings: Finding[] = [];
    const result = scanText(AWS, active, 'result.content[0].text', findings);
    expect(result.blocked).toMatchObject({
      detector: 'secrets',
      action: 'block',
      where: 'result.content[0].text',
    });
    expect(findings).toEqual([result.blocked]);
  });

  it("another list of detectors (another tenant's or server's profile) scans for itself", () => {
    const one = counted();
    const other = counted();
    scanText(AWS, [{ detector: one.detector, action: 'flag' }], 'args', []);
    const findings: Finding[] = [];
    scanText(AWS, [{ detector: other.detector, action: 'block' }], 'args', findings);
    expect(other.scans()).toBe(1);
    expect(findings).toMatchObject([{ action: 'block' }]);
  });

  it('long texts are scanned every time', () => {
    const { detector, scans } = counted();
    const active: ActiveDetector[] = [{ detector, action: 'flag' }];
    const long = `${'x '.repeat(2_000)}${AWS}`;
    scanText(long, active, 'args', []);
    scanText(long, active, 'args', []);
    expect(scans()).toBe(2);
  });
});
