import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadManifests } from '../load-manifests.js';
import { configFromManifests, createGateway, resolveCredentials } from '../../gateway/server.js';
import type { CredentialEntry } from '../../gateway/sigv4.js';

async function readCredentials(file: string): Promise<CredentialEntry[]> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  const ok = (c: unknown): c is CredentialEntry =>
    typeof c === 'object' && c !== null &&
    ['accessKeyId', 'secretAccessKey', 'arn'].every((k) => typeof (c as Record<string, unknown>)[k] === 'string');
  if (!Array.isArray(parsed) || !parsed.every(ok)) {
    throw new Error(`${file}: expected a JSON list of {accessKeyId, secretAccessKey, sessionToken?, arn}`);
  }
  return parsed;
}

// Local stand-in for the private API: SigV4 and the resource policy, as API Gateway answers them.
export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('serve the private API from the manifests locally, enforcing SigV4 and the resource policy')
    .option('--manifests <dir>', 'folder or file of rendered manifests', 'manifests')
    .requiredOption('--credentials <file>', 'JSON list of {accessKeyId, secretAccessKey, sessionToken?, arn}')
    .option('--port <port>', 'port to listen on', '8443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { manifests: string; credentials: string; port: string; host: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${opts.port}`);
      const cfg = configFromManifests((await loadManifests(opts.manifests)).map((l) => l.object));
      const credentials = await readCredentials(opts.credentials);
      const server = createGateway(cfg, credentials);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, opts.host, resolve);
      });
      const routes = cfg.routes.map((r) => `${r.method} ${r.template}`).join(', ');
      const bound = (server.address() as AddressInfo).port; // --port 0 picks a free one
      process.stderr.write(`xapi gateway: http://${opts.host}:${bound}/{stage}/… api ${cfg.apiId} region ${cfg.region}; routes: ${routes}\n`);
      for (const w of resolveCredentials(cfg, credentials).warnings) process.stderr.write(`xapi gateway: warning: ${w}\n`);
    });
}
