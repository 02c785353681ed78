import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { OrchestratorClient } from "../../../runners/cycle/orchestrator-client.js";
import { createRunCa } from "../../../runners/local/run-ca.js";
import { serveEnvironment, testRunCa, type ServedEnvironment } from "../../helpers/orchestrator.js";

/**
 * The runner's refusals (issue 16): it talks to an orchestrator only over TLS 1.3 with a
 * certificate that chains to the run's CA and names the host it expects (the Service's DNS name on
 * the cluster, the loopback address here). Each refusal is a TiersError the runner prints as one
 * line, before anything is triggered.
 */

const SERVICE = "orchestrator.tiers-env-1.svc";
let served: ServedEnvironment;
const clients: OrchestratorClient[] = [];
const client = (...args: ConstructorParameters<typeof OrchestratorClient>): OrchestratorClient => {
  const c = new OrchestratorClient(...args);
  clients.push(c);
  return c;
};

async function refusal(c: OrchestratorClient): Promise<TiersError> {
  const error = await c.check().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TiersError);
  expect((error as TiersError).exitCode).toBe(ExitCode.Infrastructure);
  return error as TiersError;
}

beforeAll(async () => {
  // The certificate names the Service as cert-manager's Certificate does, and the loopback address.
  served = await serveEnvironment("env-1", { names: [SERVICE, "127.0.0.1"] });
}, 60_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await served?.cleanup();
});

describe("the runner's orchestrator client over TLS", () => {
  it("accepts the orchestrator whose certificate chains to the run's CA and names the host it expects", async () => {
    const byName = client(served.process.url, served.token, { tls: { ca: served.ca, servername: SERVICE } });
    await byName.check();
    expect(byName.verified).toBe(true);
    const byAddress = client(served.process.url, served.token, { tls: { ca: served.ca } });
    await byAddress.check();
  });

  it("refuses a certificate that names another host, naming the host it expected", async () => {
    const other = "orchestrator.tiers-env-2.svc";
    const e = await refusal(
      client(served.process.url, served.token, { tls: { ca: served.ca, servername: other } }),
    );
    expect(e.message).toMatch(
      new RegExp(
        `^orchestrator at ${served.process.url}: the orchestrator's certificate names another host than ${other.replaceAll(".", "\\.")} \\(`,
      ),
    );
  });

  it("refuses a certificate from another CA (another run's, or none the run made)", async () => {
    const another = await createRunCa("another run");
    const e = await refusal(
      client(served.process.url, served.token, { tls: { ca: another.cert, servername: SERVICE } }),
    );
    expect(e.message).toMatch(/: the orchestrator's certificate does not chain to the run's CA \([A-Z_]+\)$/);
  });

  it("refuses HTTPS without a CA to verify against, before any connection", () => {
    expect(() => new OrchestratorClient(served.process.url, served.token)).toThrow(
      `${served.process.url}: HTTPS needs the run's CA to verify it`,
    );
    expect(() => new OrchestratorClient("ftp://127.0.0.1:1/", served.token)).toThrow(
      "not an http: or https: URL",
    );
  });

  describe("against a TLS server that is not the orchestrator", () => {
    const servers: Server[] = [];
    async function tlsServer(options: { maxVersion?: "TLSv1.2"; days?: number }): Promise<string> {
      const ca = await testRunCa();
      const issued = await ca.issueServer("not the orchestrator", ["127.0.0.1"], options.days);
      const server = createServer(
        {
          cert: issued.cert,
          key: issued.key,
          ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
        },
        (_req, res) => res.end("ok"),
      );
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
      servers.push(server);
      return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    afterAll(async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    });

    it("refuses one that speaks only TLS 1.2, even with a good certificate", async () => {
      const url = await tlsServer({ maxVersion: "TLSv1.2" });
      const e = await refusal(client(url, "t", { tls: { ca: served.ca } }));
      expect(e.message).toMatch(/: the orchestrator does not speak TLS 1\.3 \(/);
    });

    it("refuses an expired certificate from the run's CA", async () => {
      const url = await tlsServer({ days: -0.01 });
      const e = await refusal(client(url, "t", { tls: { ca: served.ca } }));
      expect(e.message).toMatch(/: the orchestrator's certificate is not valid now \(CERT_HAS_EXPIRED\)$/);
    });
  });
});
