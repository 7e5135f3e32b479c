// Everything `xapi synth` writes, as one cdk8s App: one chart (= one folder) per cluster holding
// the ACK objects and their CARM namespaces, plus `crds`, `operator`, `apis` (the
// CrossAccountApi objects) and `argocd`. Pure: CRs and
// options in, an App out; the caller decides where it is written.
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';
import type { CrossAccountApi, ObservedIds } from '../api/types.js';
import { addApplication, addArgoCdSettings, addRootApplication, ARGOCD_FOLDER, type ArgoSource } from './argocd.js';
import { addCrossAccountApiCrd } from './crds.js';
import { addAccountNamespace } from './namespaces.js';
import { addOperator } from './operator.js';
import { endpointGroup, type EndpointGroup } from './names.js';
import { addCrossAccountApi } from './render.js';
import { addEndpointGroup, type GroupMember } from './shared-endpoint.js';

export interface SynthOptions {
  outdir: string;
  operator: { namespace: string; image: string; replicas: number };
  argocd: ArgoSource;
  /** IDs AWS assigned, per CR (`namespace/name`), for a second static pass; absent = fail-closed. */
  observed?: Record<string, ObservedIds>;
}

/** The cluster folder of one side: the cluster Secret's name, or `local` for the operator's own cluster. */
export function clusterFolder(cluster: { secretName?: string } | undefined): string {
  return cluster?.secretName ?? 'local';
}

/** CRs must already be validated (the render applies defaults) and sorted for a stable output. */
export function buildApp(crs: readonly CrossAccountApi[], o: SynthOptions): App {
  const app = new App({ outdir: o.outdir, yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
  const chart = (id: string) => new Chart(app, id, { disableResourceNameHashes: true });
  const clusters = new Map<string, Chart>();
  const clusterChart = (folder: string) => {
    let c = clusters.get(folder);
    if (!c) clusters.set(folder, (c = chart(folder)));
    return c;
  };
  const namespaces = new Map<string, Set<string>>(); // folder → namespaces already added
  const addNamespace = (scope: Chart, folder: string, name: string, accountId: string, region: string) => {
    const seen = namespaces.get(folder) ?? new Set<string>();
    namespaces.set(folder, seen);
    if (seen.has(name)) return;
    seen.add(name);
    addAccountNamespace(scope, { name, accountId, region });
  };

  addCrossAccountApiCrd(chart('crds'));
  const secrets: Record<string, string[]> = {};
  // One shared endpoint per consumer cluster folder, namespace and group (names.ts, endpointGroup).
  const groups = new Map<string, { chart: Chart; group: EndpointGroup; members: GroupMember[] }>();
  for (const cr of crs) {
    const { consumer, provider, region } = cr.spec;
    const a = clusterFolder(consumer.cluster);
    const b = clusterFolder(provider.cluster);
    const chartA = clusterChart(a);
    const chartB = clusterChart(b);
    addNamespace(chartA, a, consumer.namespace, consumer.accountId, region);
    addNamespace(chartB, b, provider.namespace, provider.accountId, region);
    const observed = o.observed?.[`${cr.metadata.namespace}/${cr.metadata.name}`] ?? {};
    addCrossAccountApi(chartA, chartB, cr, observed);
    const group = endpointGroup(cr);
    if (group) {
      const key = `${a}|${group.namespace}|${group.label}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { chart: chartA, group, members: [] }));
      g.members.push({ cr, ids: observed });
    }
    for (const c of [consumer.cluster, provider.cluster]) {
      if (c?.secretName) (secrets[cr.metadata.namespace ?? 'default'] ??= []).push(c.secretName);
    }
  }
  for (const key of [...groups.keys()].sort()) {
    const { chart: c, group, members } = groups.get(key)!;
    // The group SG's ID: any member's observed endpointSecurityGroupId (they name the same group).
    const sgId = members.map((m) => m.ids.endpointSecurityGroupId).find((id) => !!id);
    addEndpointGroup(c, group, members, sgId ? { endpointSecurityGroupId: sgId } : {});
  }
  addOperator(chart('operator'), { ...o.operator, clusterSecrets: secrets });
  // The CRs themselves, for the operator: it fills in IDs and rotates endpoint IDs.
  const apis = chart('apis');
  for (const cr of crs) new ApiObject(apis, `api-${cr.metadata.namespace}-${cr.metadata.name}`, { apiVersion: cr.apiVersion, kind: cr.kind, metadata: cr.metadata, spec: cr.spec });

  const argo = chart(ARGOCD_FOLDER);
  addArgoCdSettings(argo, o.argocd.namespace);
  addRootApplication(argo, o.argocd);
  addApplication(argo, o.argocd, { name: 'xapi-crds', folder: 'crds', wave: -2, ackObjects: false });
  addApplication(argo, o.argocd, { name: 'xapi-operator', folder: 'operator', wave: -1, ackObjects: false });
  addApplication(argo, o.argocd, { name: 'xapi-apis', folder: 'apis', wave: 0, ackObjects: false });
  for (const folder of [...clusters.keys()].sort()) {
    addApplication(argo, o.argocd, {
      name: `xapi-${folder}`,
      folder,
      wave: 1,
      ...(folder !== 'local' && { cluster: folder }),
      ackObjects: true,
    });
  }
  return app;
}
