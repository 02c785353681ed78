import { createConnection, createServer, type Server, type Socket } from "node:net";
import { NO_FAULTS, Pipe, type Direction, type ProxyConditions } from "./proxy-pipe.js";

export { NO_FAULTS, type PartitionMode, type ProxyConditions } from "./proxy-pipe.js";

/**
 * A fault-injecting TCP proxy in front of the SUT (the local stand-in for Chaos Mesh's
 * NetworkChaos): added latency with jitter, a bandwidth cap, and partitions — `refuse` resets every
 * connection and refuses new ones at once; `blackhole` keeps them open but forwards nothing, as a
 * network that drops packets does (clients wait for their timeouts). Conditions change at run time,
 * so the same proxy also simulates a region's latency.
 *
 * Latency applies per chunk and per direction (one-way): a chunk is forwarded `latency ± jitter`
 * ms after it arrived, never before the chunk ahead of it (TCP keeps order). The bandwidth cap is
 * shared by all connections, per direction.
 */

export interface ProxyStats {
  readonly connections: number;
  readonly active: number;
  readonly refused: number;
  readonly reset: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

interface Connection {
  readonly client: Socket;
  readonly upstream: Socket | undefined;
  readonly pipes: Pipe[];
}

export interface ProxyOptions {
  readonly target: { readonly host: string; readonly port: number };
  readonly host?: string;
  readonly port?: number;
  readonly conditions?: Partial<ProxyConditions>;
}

export class FaultProxy {
  private current: ProxyConditions;
  private readonly connections = new Set<Connection>();
  private readonly up: Direction = { nextFree: 0, bytes: 0 };
  private readonly down: Direction = { nextFree: 0, bytes: 0 };
  private counts = { connections: 0, refused: 0, reset: 0 };

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
    private readonly target: ProxyOptions["target"],
    conditions: ProxyConditions,
  ) {
    this.current = conditions;
  }

  /** Starts a proxy on `host:port` (127.0.0.1, a free port by default) forwarding to `target`. */
  static start(options: ProxyOptions): Promise<FaultProxy> {
    const host = options.host ?? "127.0.0.1";
    // Half-open: a client that finishes sending still gets the rest of the answer.
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : 0;
        const proxy = new FaultProxy(server, host, port, options.target, {
          ...NO_FAULTS,
          ...options.conditions,
        });
        server.on("connection", (socket) => proxy.accept(socket));
        resolve(proxy);
      });
    });
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get conditions(): ProxyConditions {
    return this.current;
  }

  /** Changes conditions now; returns the previous ones (to restore) and how many connections a partition reset. */
  update(patch: Partial<ProxyConditions>): { previous: ProxyConditions; reset: number } {
    const previous = this.current;
    this.current = { ...previous, ...patch };
    let reset = 0;
    if (
      this.current.partition === "refuse" ||
      (previous.partition === "blackhole" && this.current.partition !== "blackhole")
    ) {
      // Refusing drops every connection; healing a black hole drops what it swallowed.
      for (const c of [...this.connections]) {
        this.reset(c);
        reset += 1;
      }
    } else if (this.current.partition === "blackhole") {
      for (const c of this.connections) for (const p of c.pipes) p.discard();
    }
    return { previous, reset };
  }

  stats(): ProxyStats {
    return {
      connections: this.counts.connections,
      active: this.connections.size,
      refused: this.counts.refused,
      reset: this.counts.reset,
      bytesUp: this.up.bytes,
      bytesDown: this.down.bytes,
    };
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    for (const c of [...this.connections]) this.reset(c);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private reset(c: Connection): void {
    for (const p of c.pipes) p.close();
    this.connections.delete(c);
    this.counts.reset += 1;
    if (!c.client.destroyed) c.client.resetAndDestroy();
    c.upstream?.destroy();
  }

  private accept(client: Socket): void {
    this.counts.connections += 1;
    client.on("error", () => undefined);
    const partition = this.current.partition;
    if (partition === "refuse") {
      this.counts.refused += 1;
      client.resetAndDestroy();
      return;
    }
    if (partition === "blackhole") {
      const held: Connection = { client, upstream: undefined, pipes: [] };
      this.connections.add(held);
      client.on("close", () => this.connections.delete(held));
      client.resume(); // read and drop
      return;
    }
    const upstream = createConnection({
      host: this.target.host,
      port: this.target.port,
      allowHalfOpen: true,
    });
    const connection: Connection = { client, upstream, pipes: [] };
    this.connections.add(connection);
    const closeBoth = (): void => {
      for (const p of connection.pipes) p.close();
      this.connections.delete(connection);
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", closeBoth);
    client.on("error", closeBoth);
    client.on("close", closeBoth);
    upstream.on("close", closeBoth);
    upstream.once("connect", () => {
      connection.pipes.push(
        new Pipe(client, upstream, () => this.current, this.up),
        new Pipe(upstream, client, () => this.current, this.down),
      );
      client.resume();
    });
  }
}
