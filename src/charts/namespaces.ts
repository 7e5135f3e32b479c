// The namespaces ACK objects live in. With CARM, the owner-account annotation tells every ACK
// controller which account (through ack-role-account-map) to act in; the region annotation is the
// default for objects that do not carry their own.
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { ACK_ANNOTATION } from '../api/ack.js';
import { SYNC_WAVE } from './names.js';

export interface AccountNamespace {
  name: string;
  accountId: string;
  region: string;
}

export function addAccountNamespace(scope: Construct, ns: AccountNamespace): void {
  new k8s.KubeNamespace(scope, `ns-${ns.name}`, {
    metadata: {
      name: ns.name,
      annotations: {
        [ACK_ANNOTATION.ownerAccountId]: ns.accountId,
        [ACK_ANNOTATION.defaultRegion]: ns.region,
        [SYNC_WAVE]: '-1', // before the ACK objects in it
      },
      labels: { 'app.kubernetes.io/managed-by': 'xapi' },
    },
  });
}
