// The archive's per-session progress puts (host/lab/archive-progress.ts) on an in-memory KV with
// revisions: batches' counts go out together, two archives' counts add up across a
// compare-and-set conflict, and the end marker's figures are final.
import assert from 'node:assert/strict';
import type { KV } from '@nats-io/kv';
import { ArchiveProgressPublisher, type SessionArchiveProgress } from '../../../host/lab/archive-progress.ts';

/** get/create/update/put of a KV bucket with one revision counter, as JetStream KV does them. */
class FakeKv {
  revision = 0;
  readonly entries = new Map<string, { revision: number; value: string }>();
  readonly calls: string[] = [];

  async get(key: string) {
    this.calls.push('get');
    const e = this.entries.get(key);
    return e ? { key, revision: e.revision, operation: 'PUT' as const, json: () => JSON.parse(e.value) } : null;
  }

  async create(key: string, value: string): Promise<number> {
    this.calls.push('create');
    if (this.entries.has(key)) throw new Error('wrong last sequence: key exists');
    return this.set(key, value);
  }

  async update(key: string, value: string, revision: number): Promise<number> {
    this.calls.push('update');
    if (this.entries.get(key)?.revision !== revision) throw new Error('wrong last sequence');
    return this.set(key, value);
  }

  async put(key: string, value: string): Promise<number> {
    this.calls.push('put');
    return this.set(key, value);
  }

  value(key: string): SessionArchiveProgress {
    return JSON.parse(this.entries.get(key)!.value) as SessionArchiveProgress;
  }

  private set(key: string, value: string): number {
    this.entries.set(key, { revision: ++this.revision, value });
    return this.revision;
  }
}

const HOUR_MS = 3600_000; // the timer never fires in these tests: publish() is called by hand
const counts = (p: SessionArchiveProgress): unknown[] => [p.records, p.bytes, p.complete, p.sha256Ok, p.demod];

describe('lab: archive progress per session (KV puts)', () => {
  it('puts the counts of several batches at once; one archive alone updates at the revision it wrote, without reading', async () => {
    const kv = new FakeKv();
    const publisher = new ArchiveProgressPublisher(kv as unknown as KV, HOUR_MS);
    publisher.add('rig-a', 'S1', 10, 1000);
    publisher.add('rig-a', 'S1', 5, 500);
    publisher.add('rig-b', 'S7', 1, 100);
    await publisher.publish();
    assert.deepEqual(counts(kv.value('rig-a.S1')), [15, 1500, false, false, 'pending']);
    assert.deepEqual(counts(kv.value('rig-b.S7')), [1, 100, false, false, 'pending']);
    assert.equal(kv.calls.filter((c) => c === 'create').length, 2);
    kv.calls.length = 0;
    publisher.add('rig-a', 'S1', 2, 200);
    await publisher.publish();
    assert.deepEqual(kv.calls, ['update']);
    assert.deepEqual(counts(kv.value('rig-a.S1')), [17, 1700, false, false, 'pending']);
    await publisher.close();
  });

  it('two archives sharing a session: their counts add up, a compare-and-set conflict retried with the entry read again', async () => {
    const kv = new FakeKv();
    const one = new ArchiveProgressPublisher(kv as unknown as KV, HOUR_MS);
    const two = new ArchiveProgressPublisher(kv as unknown as KV, HOUR_MS);
    one.add('r', 's', 3, 300);
    await one.publish();
    two.add('r', 's', 4, 400);
    await two.publish(); // reads the entry, adds its share
    assert.deepEqual(counts(kv.value('r.s')), [7, 700, false, false, 'pending']);
    one.add('r', 's', 1, 100);
    await one.publish(); // its cached revision is stale: conflict, kept
    await one.publish();
    assert.deepEqual(counts(kv.value('r.s')), [8, 800, false, false, 'pending']);
    assert.equal(one.failures, 1);
    await one.close();
    await two.close();
  });

  it('the end marker\'s figures are final: later counts do not change them; the demod\'s outcome follows', async () => {
    const kv = new FakeKv();
    const publisher = new ArchiveProgressPublisher(kv as unknown as KV, HOUR_MS);
    publisher.add('r', 's', 3, 300);
    await publisher.publish();
    await publisher.complete('r', 's', 12, 1234, 'pending');
    assert.deepEqual(counts(kv.value('r.s')), [12, 1234, true, true, 'pending']);
    publisher.add('r', 's', 1, 100); // a late batch's counts (another archive's, or a redelivery)
    await publisher.publish();
    assert.deepEqual(counts(kv.value('r.s')), [12, 1234, true, true, 'pending']);
    await publisher.complete('r', 's', 12, 1234, 'done');
    assert.deepEqual(counts(kv.value('r.s')), [12, 1234, true, true, 'done']);
    await publisher.close();
  });
});
