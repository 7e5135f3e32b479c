// A loopback TCP proxy that the fault tests put between the operator and an API server, to make
// that server unreachable (connections refused) or silently stalled (bytes stop flowing, nothing
// is closed) without touching the server itself.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** forward: pass bytes; refuse: reset every connection; stall: accept and black-hole everything. */
export type ProxyMode = 'forward' | 'refuse' | 'stall';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** A stalled pair stays dead even after the proxy forwards again: like a dropped NAT entry. */
  dead: boolean;
}

export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private current: ProxyMode = 'forward';
  /** Connections accepted so far (a client that reconnects shows up here). */
  accepted = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port));
  }

  get mode(): ProxyMode {
    return this.current;
  }

  /** https://127.0.0.1:<port>: the address to give the operator instead of the server's. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.current === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream, dead: this.current === 'stall' };
    this.pairs.add(pair);
    client.on('data', (chunk) => {
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
    // A dead pair swallows closes too: the other end must find out on its own (timeouts).
    client.on('close', () => {
      if (!pair.dead) {
        upstream.destroy();
        this.pairs.delete(pair);
      }
    });
    upstream.on('close', () => {
      if (!pair.dead) {
        client.destroy();
        this.pairs.delete(pair);
      }
    });
  }

  /** Pass bytes on new connections; connections that were stalled stay dead. */
  forward(): void {
    this.current = 'forward';
  }

  /** Reset every open connection and every new one: the server looks down. */
  refuse(): void {
    this.current = 'refuse';
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stop forwarding on every open and new connection without closing anything. */
  stall(): void {
    this.current = 'stall';
    for (const p of this.pairs) p.dead = true;
  }

  /** Resets open connections once (the operator reconnects through the proxy). */
  cut(): void {
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
