// Local Kubernetes control planes (etcd + kube-apiserver) for integration tests and `xapi dev`.
export { envtestAssets, type EnvtestAssets } from './assets.js';
export { startControlPlane, type ControlPlane, type ControlPlaneProcess, type StartOptions } from './control-plane.js';
export { readCrdDir, installCrds } from './crds.js';
export { apiRequest, type Endpoint } from './http.js';
export { isAlive, stopGroup, commandLine } from './processes.js';
export { provisionAssets, provisionCrdDir } from './provision.js';
export { allRunning, devCluster, readState, runningProcesses, tearDown, writeState, CLUSTER_LETTERS, STATE_FILE, type DevCluster, type DevState } from './dev-state.js';
export { argoCdAssets, applyServerSide, clusterSecret, commitAll, endpointOf, installArgoCdObjects, startArgoCd, startGitServer, type ArgoCd, type ArgoCdAssets, type ArgoCluster, type GitServer } from './argocd.js';
