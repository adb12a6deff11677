/** Stops the dev server global-setup started (by the handle it kept, i.e. its own pid). */
export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __longhaulDevServer?: { stop(): Promise<void> } }).__longhaulDevServer;
  await server?.stop();
}
