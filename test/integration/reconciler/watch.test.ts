// ListWatch against a real API server: a collection larger than a page is listed in pages of one
// snapshot (typed lists and custom objects alike), and the cache holds no managedFields (listed
// or watched).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ACK } from '../../../src/api/ack.js';
import { LIST_PAGE_SIZE, ListWatch, listPages, type ObjectList } from '../../../src/reconciler/watch.js';
import type { LiveObject } from '../../../src/reconciler/observed.js';
import { clients, deleteNamespace, ensureNamespace, runSuffix, until } from '../helpers.js';

const NS = `watch-pages-${runSuffix()}`;
const COUNT = 2 * LIST_PAGE_SIZE + 101;
const a = clients('A');
let lw: ListWatch | undefined;

beforeAll(async () => {
  await ensureNamespace(a.core, NS);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < COUNT; i = next++) await a.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `cm-${i}` }, data: { i: String(i) } } });
    }),
  );
}, 300_000);

afterAll(async () => {
  lw?.stop();
  await deleteNamespace(a.core, NS);
});

it('lists a collection in pages and caches it without managedFields', async () => {
  const pages: number[] = [];
  const events: string[] = [];
  lw = new ListWatch({
    kc: a.kc,
    path: `/api/v1/namespaces/${NS}/configmaps`,
    list: () =>
      listPages(async (page) => {
        const res = (await a.core.listNamespacedConfigMap({ namespace: NS, ...page })) as unknown as ObjectList & { metadata?: { _continue?: string } };
        pages.push(res.items?.length ?? 0);
        return res;
      }),
    kind: 'ConfigMap',
    apiVersion: 'v1',
    onEvent: (type, obj) => {
      if (obj.metadata?.name === 'cm-7') events.push(type);
    },
  });
  lw.start();
  await until('the ConfigMaps listed', async () => lw!.live, 120_000);
  expect(pages).toEqual([LIST_PAGE_SIZE, LIST_PAGE_SIZE, 101]);
  expect(lw.list()).toHaveLength(COUNT);
  const withFields = (o: LiveObject | undefined) => (o?.metadata as { managedFields?: unknown } | undefined)?.managedFields !== undefined;
  expect(lw.list().filter(withFields)).toEqual([]);
  // The server does keep them: it is the cache that drops them.
  const live = await a.core.readNamespacedConfigMap({ namespace: NS, name: 'cm-7' });
  expect(live.metadata?.managedFields?.length).toBeGreaterThan(0);

  await a.core.patchNamespacedConfigMap({ namespace: NS, name: 'cm-7', body: [{ op: 'replace', path: '/data/i', value: 'seven' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  await until('the watch delivers the change', async () => (lw!.get(NS, 'cm-7') as { data?: { i?: string } } | undefined)?.data?.i === 'seven', 60_000);
  expect(events).toEqual(['ADDED', 'MODIFIED']);
  expect(withFields(lw.get(NS, 'cm-7'))).toBe(false);
}, 240_000);

it('pages custom objects too (their raw JSON names the token `continue`)', async () => {
  const r = ACK.LogGroup;
  for (let i = 0; i < 7; i++) {
    await a.custom.createNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: NS, body: { apiVersion: r.apiVersion, kind: r.kind, metadata: { name: `lg-${i}` }, spec: { name: `lg-${i}` } } });
  }
  const pages: number[] = [];
  const all = await listPages(async (page) => {
    const res = (await a.custom.listNamespacedCustomObject({ group: r.group, version: r.version, plural: r.plural, namespace: NS, ...page })) as ObjectList;
    pages.push(res.items?.length ?? 0);
    return res;
  }, 3);
  expect(pages).toEqual([3, 3, 1]);
  expect(all.items?.map((o) => o.metadata?.name).sort()).toEqual(['lg-0', 'lg-1', 'lg-2', 'lg-3', 'lg-4', 'lg-5', 'lg-6']);
  expect(all.metadata?.resourceVersion).toMatch(/^\d+$/);
  expect(all.items?.filter((o) => (o.metadata as { managedFields?: unknown }).managedFields !== undefined)).toEqual([]);
}, 120_000);

it('indexes each object under every value indexBy gives, and moves or drops it as the object changes', async () => {
  const valueOf = (o: LiveObject) => Number((o as { data?: { i?: string } }).data?.i);
  const idx = new ListWatch({
    kc: a.kc,
    path: `/api/v1/namespaces/${NS}/configmaps`,
    list: () => listPages((page) => a.core.listNamespacedConfigMap({ namespace: NS, ...page }) as never),
    kind: 'ConfigMap',
    apiVersion: 'v1',
    // Two values for the first ten, one for the rest, none for a non-number.
    indexBy: (o) => (Number.isNaN(valueOf(o)) ? undefined : valueOf(o) < 10 ? [`mod3|${valueOf(o) % 3}`, 'small'] : `mod3|${valueOf(o) % 3}`),
  });
  try {
    idx.start();
    await until('the ConfigMaps listed', async () => idx.live, 120_000);
    const names = (v: string) => idx.byIndex(v).map((o) => o.metadata!.name!);
    // (cm-7 holds "seven" once the test above ran)
    expect(names('small').filter((n) => n !== 'cm-7').sort()).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-6', 'cm-8', 'cm-9']);
    expect(names('mod3|0')).toContain('cm-3');
    // cm-3 becomes 13: it leaves "small" and moves from mod3|0 to mod3|1
    await a.core.patchNamespacedConfigMap({ namespace: NS, name: 'cm-3', body: [{ op: 'replace', path: '/data/i', value: '13' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await until('the change indexed', async () => names('mod3|1').includes('cm-3'), 60_000);
    expect(names('small')).not.toContain('cm-3');
    expect(names('mod3|0')).not.toContain('cm-3');
    // a deleted object leaves every index it was under
    await a.core.deleteNamespacedConfigMap({ namespace: NS, name: 'cm-4' });
    await until('the deletion seen', async () => idx.get(NS, 'cm-4') === undefined, 60_000);
    expect(names('small')).not.toContain('cm-4');
    expect(names('mod3|1')).not.toContain('cm-4');
  } finally {
    idx.stop();
  }
}, 180_000);
