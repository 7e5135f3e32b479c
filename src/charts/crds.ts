// Our own CRD as a chart, so that it is synthesized (and synced) like everything else.
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { crossAccountApiCrd } from '../api/crd.js';

export function addCrossAccountApiCrd(scope: Construct): void {
  const crd = crossAccountApiCrd();
  new ApiObject(scope, 'crd', crd as ConstructorParameters<typeof ApiObject>[2]);
}
