// One rule for tests that need something outside npm (a Debian package, root, a device):
// without it the test is pending locally, with the reason in its title, and a loud failure under
// CI=true, because .ci/run installs everything the suite needs.

/** Marks the running test pending (locally) or fails it (CI=true) when `missing` names what is absent. */
export function requireTool(ctx: Mocha.Context, missing: string | undefined, ciFix: string): void {
  if (!missing) return;
  if (process.env['CI'] === 'true') throw new Error(`${missing}: CI must run this test (${ciFix})`);
  ctx.test!.title += ` (pending: ${missing})`;
  ctx.skip();
}
