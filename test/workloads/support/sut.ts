import { SutSupervisor, type SupervisorOptions } from "../../../workloads/sut/supervisor.js";

/** A supervised sample SUT on 127.0.0.1 for a test file; stop it in afterAll/afterEach. */
export async function startSut(options: SupervisorOptions = {}): Promise<SutSupervisor> {
  const sut = new SutSupervisor({ host: "127.0.0.1", ...options });
  await sut.start();
  return sut;
}

/** GET a path of a base URL and return status and body. */
export async function get(
  base: string,
  path: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  const response = await fetch(new URL(path, base), { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}
