// Argo CD objects for the synthesized folders: an app of apps (`xapi`) whose children sync CRDs
// first (wave -2), then the operator (-1), the CrossAccountApi objects (0), then each cluster's
// ACK objects (1); and the argocd-cm health checks that make those waves wait (argocd-health.ts).
// RestAPI /spec/policy is left to the operator: it rotates endpoint IDs into that one string, and
// Argo CD must neither diff nor revert it.
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { Application } from '../../imports/argoproj.io.js';
import { ACK } from '../api/ack.js';
import { FIELD_MANAGER } from '../api/types.js';
import { healthChecks } from './argocd-health.js';

import { SYNC_WAVE } from './names.js';
export const IN_CLUSTER = 'https://kubernetes.default.svc';
/** The app of apps; its children are named `xapi-<folder>`. */
export const ROOT_APP = 'xapi';
/** The folder (under basePath) holding the Argo CD objects. */
export const ARGOCD_FOLDER = 'argocd';

export interface ArgoSource {
  repoUrl: string;
  targetRevision: string;
  /** Folder of the synthesized manifests inside the repository, e.g. `manifests`. */
  basePath: string;
  /** Namespace Argo CD runs in (the Applications live there). */
  namespace: string;
  project: string;
}

export interface ArgoApp {
  name: string;
  folder: string;
  wave: number;
  /** An Argo CD cluster name; undefined = the cluster Argo CD runs in. */
  cluster?: string;
  /** Whether the folder holds ACK objects the operator completes (IDs) and rotates (RestAPI policy). */
  ackObjects: boolean;
}

export function addApplication(scope: Construct, src: ArgoSource, app: ArgoApp): void {
  const syncOptions = ['ServerSideApply=true', 'CreateNamespace=false'];
  if (app.ackObjects) syncOptions.push('RespectIgnoreDifferences=true');
  // What these folders hold has no Kubernetes dependents (a CR's ACK objects go through the
  // operator's finalizer), so a prune need not wait for the garbage collector's foreground pass.
  else syncOptions.push('PrunePropagationPolicy=background');
  new Application(scope, `app-${app.name}`, {
    metadata: {
      name: app.name,
      namespace: src.namespace,
      annotations: { [SYNC_WAVE]: String(app.wave) },
      labels: { 'app.kubernetes.io/part-of': 'xapi' },
    },
    spec: {
      project: src.project,
      source: {
        repoUrl: src.repoUrl,
        targetRevision: src.targetRevision,
        path: `${src.basePath}/${app.folder}`,
        directory: { recurse: true },
      },
      destination: app.cluster ? { name: app.cluster } : { server: IN_CLUSTER },
      // ACK objects are never pruned by Argo CD: it knows only the static first pass (e.g. the
      // RestAPI, not the Stage the operator adds), and deleting a RestAPI before its pieces leaves
      // them ACK.Terminal. Removing a CR from git prunes the CR (xapi-apis); the operator's
      // finalizer then deletes its objects dependants first.
      syncPolicy: { automated: { prune: !app.ackObjects, selfHeal: true }, syncOptions },
      ...(app.ackObjects && {
        // The static render leaves unknown IDs out (fail-closed); the operator fills them in with
        // field manager `xapi`. Argo CD ignores exactly those fields, and RestAPI /spec/policy,
        // which the operator rotates.
        ignoreDifferences: [
          { group: ACK.RestAPI.group, kind: ACK.RestAPI.kind, jsonPointers: ['/spec/policy'] },
          ...Object.values(ACK).map((k) => ({ group: k.group, kind: k.kind, managedFieldsManagers: [FIELD_MANAGER] })),
        ],
      }),
    },
  });
}

/**
 * The app of apps: syncs the child Applications of the argocd folder (not itself, not argocd-cm)
 * in their sync waves. With the Application health check from argocd-cm, a wave starts only once
 * the previous one is Synced and Healthy.
 */
export function addRootApplication(scope: Construct, src: ArgoSource): void {
  new Application(scope, `app-${ROOT_APP}`, {
    metadata: { name: ROOT_APP, namespace: src.namespace, labels: { 'app.kubernetes.io/part-of': 'xapi' } },
    spec: {
      project: src.project,
      source: {
        repoUrl: src.repoUrl,
        targetRevision: src.targetRevision,
        path: `${src.basePath}/${ARGOCD_FOLDER}`,
        directory: { include: `Application.${ROOT_APP}-*.k8s.yaml` },
      },
      destination: { server: IN_CLUSTER, namespace: src.namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
    },
  });
}

/**
 * The keys xapi adds to Argo CD's argocd-cm: health checks only. Apply it with server-side apply
 * (`kubectl apply --server-side`), which merges these keys into an existing argocd-cm.
 */
export function addArgoCdSettings(scope: Construct, namespace: string): void {
  new ApiObject(scope, 'argocd-cm', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    // Argo CD reads only settings objects labelled part-of=argocd.
    metadata: { name: 'argocd-cm', namespace, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
    data: healthChecks(),
  });
}
