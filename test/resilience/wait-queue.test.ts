/** The order a saturated pool serves its waiters in: weighted fair across tenants, or FIFO. */
import { describe, expect, it } from 'vitest';
import { newWaitQueue, type WaitClass } from '../../src/upstream/wait-queue.ts';

type Item = { readonly waitClass: WaitClass; readonly id: string };

const item = (tenant: string, weight: number, id: string): Item => ({ waitClass: { tenant, weight }, id });

function servedOrder(queue: ReturnType<typeof newWaitQueue<Item>>): string[] {
  return queue.drain().map((entry) => entry.id);
}

describe('wait queues', () => {
  it('fifo serves in arrival order whoever waits', () => {
    const queue = newWaitQueue<Item>('fifo');
    for (const [tenant, id] of [
      ['noisy', 'n1'],
      ['noisy', 'n2'],
      ['noisy', 'n3'],
      ['quiet', 'q1'],
    ] as const) {
      queue.push(item(tenant, 1, id));
    }
    expect(servedOrder(queue)).toEqual(['n1', 'n2', 'n3', 'q1']);
  });

  it('fair lets a tenant that arrives behind a flood in at once rather than last', () => {
    const queue = newWaitQueue<Item>('fair');
    for (let n = 1; n <= 10; n++) queue.push(item('noisy', 1, `n${n}`));
    queue.push(item('quiet', 1, 'q1'));
    const order = servedOrder(queue);
    expect(order.indexOf('q1')).toBeLessThanOrEqual(1);
    // Each tenant's own calls keep their order.
    expect(order.filter((id) => id.startsWith('n'))).toEqual(
      Array.from({ length: 10 }, (_, n) => `n${n + 1}`),
    );
  });

  it('fair serves backlogged tenants in proportion to their weights', () => {
    const queue = newWaitQueue<Item>('fair');
    for (let n = 1; n <= 40; n++) {
      queue.push(item('enterprise', 4, `e${n}`));
      queue.push(item('basic', 1, `b${n}`));
    }
    const first = servedOrder(queue).slice(0, 25);
    const enterprise = first.filter((id) => id.startsWith('e')).length;
    expect(enterprise).toBe(20);
    expect(first.length - enterprise).toBe(5);
  });

  it('an idle tenant earns no credit to burst with later', () => {
    const queue = newWaitQueue<Item>('fair');
    for (let n = 1; n <= 5; n++) queue.push(item('a', 1, `a${n}`));
    expect(queue.shift()?.id).toBe('a1');
    expect(queue.shift()?.id).toBe('a2');
    for (let n = 1; n <= 3; n++) queue.push(item('b', 1, `b${n}`));
    // b starts at the current virtual time, level with a, not three turns ahead.
    expect(servedOrder(queue)).toEqual(['a3', 'b1', 'a4', 'b2', 'a5', 'b3']);
  });

  it('counts each tenant’s waiters and forgets a removed one', () => {
    for (const scheduling of ['fair', 'fifo'] as const) {
      const queue = newWaitQueue<Item>(scheduling);
      const removed = item('a', 1, 'a2');
      queue.push(item('a', 1, 'a1'));
      queue.push(removed);
      queue.push(item('b', 2, 'b1'));
      expect(queue.countOf('a')).toBe(2);
      expect(queue.remove(removed)).toBe(true);
      expect(queue.remove(removed)).toBe(false);
      expect(queue.countOf('a')).toBe(1);
      expect(queue.size).toBe(2);
      expect(servedOrder(queue).sort()).toEqual(['a1', 'b1']);
      expect(queue.size).toBe(0);
      expect(queue.countOf('b')).toBe(0);
    }
  });
});
