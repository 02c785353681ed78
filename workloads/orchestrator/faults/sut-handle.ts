/** What the SUT fault injectors need from whatever runs the SUT (the local target's SutSupervisor). */
export interface SutHandle {
  /** The pid of the SUT process that is up now, or undefined while it is down. */
  readonly pid: number | undefined;
  /** Resolves with the pid of a listening SUT other than `notPid`. */
  waitReady(options: { notPid?: number; timeoutMs?: number }): Promise<number>;
}
