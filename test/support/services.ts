/**
 * External services tests rely on (PostgreSQL, NATS, MariaDB…). In CI a missing service is a failure
 * naming it; on a developer machine the tests that need it are skipped with a message saying so.
 */

/** Whether a service's tests run: `skip` is the reason to skip them, or `false` to run them. */
export interface ServiceAvailability {
  skip: string | false;
}

/**
 * Run `check` (which throws when the service is unusable). When it throws: with `CI=true`, throw an
 * error naming the service (the test file fails); otherwise return a skip reason. `name` should say
 * where, e.g. `PostgreSQL at 127.0.0.1:5432`.
 */
export async function requireService(name: string, check: () => Promise<void>): Promise<ServiceAvailability> {
  try {
    await check();
    return { skip: false };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI === 'true') {
      throw new Error(`${name} is required in CI but is not reachable (${reason}); start it and rerun`, {
        cause: error,
      });
    }
    const skip = `${name} is missing (${reason}); these tests are skipped here and fail in CI`;
    console.warn(`skipping: ${skip}`);
    return { skip };
  }
}
