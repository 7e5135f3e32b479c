// The AWS accounts of the e2e tests. Each test file has its own pair, so files can run in
// parallel against one emulator and still assert that an account is empty after a deletion.
export const E2E_ACCOUNTS = {
  /** examples/orders.yaml unchanged: its accounts, one cluster each. */
  twoClusters: { consumer: '111111111111', provider: '222222222222' },
  /** one cluster, both namespaces mapped to their accounts by CARM. */
  oneCluster: { consumer: '333333333333', provider: '444444444444' },
} as const;
