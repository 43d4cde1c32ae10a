import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { prefetch } from './prefetch.ts';

it('produces the next item while the caller works on the current one, in order', async () => {
  const events: string[] = [];
  async function* source() {
    for (let i = 0; i < 3; i++) {
      events.push(`start ${i}`);
      await sleep(5);
      events.push(`made ${i}`);
      yield i;
    }
  }
  const seen: number[] = [];
  for await (const item of prefetch(source())) {
    events.push(`use ${item}`);
    await sleep(20);
    seen.push(item);
  }
  assert.deepEqual(seen, [0, 1, 2]);
  assert.ok(
    events.indexOf('made 1') < events.indexOf('use 1') && events.indexOf('start 1') < events.indexOf('made 0') + 2,
  );
  assert.ok(events.indexOf('start 1') < events.indexOf('use 1'), 'item 1 was started before item 0 was used up');
});

it('passes errors of the source to the caller without unhandled rejections', async () => {
  async function* source() {
    yield 1;
    throw new Error('page 2 failed');
  }
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const item of prefetch(source())) seen.push(item);
  }, /page 2 failed/);
  assert.deepEqual(seen, [1]);
});

it('joins pages up to a weight and keeps the last link', async () => {
  async function* pages() {
    yield { value: [1, 2], nextLink: 'n1' };
    yield { value: [3], nextLink: 'n2' };
    yield { value: [4, 5, 6], nextLink: 'n3' };
    yield { value: [], deltaLink: 'd' };
  }
  const { joinPages } = await import('./prefetch.ts');
  const joined = [];
  for await (const page of joinPages(pages(), 3)) joined.push(page);
  assert.deepEqual(joined, [
    { value: [1, 2, 3], nextLink: 'n2', deltaLink: undefined },
    { value: [4, 5, 6], nextLink: 'n3', deltaLink: undefined },
    { value: [], nextLink: undefined, deltaLink: 'd' },
  ]);
});
