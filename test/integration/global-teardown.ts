// Placeholder until the envtest harness lands (issue 3).
export default async function (): Promise<void> {}
