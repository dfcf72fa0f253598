// Acceptance: fiberrig installs as a package. `npm pack` (whose prepack compiles dist/), then a
// fresh project outside the repository installs the tarball OFFLINE from the npm cache, type-checks
// the README's HIL example against the shipped declarations (skipLibCheck off), and runs it with
// mocha — written only against the public entry points — on `sim` and on `native` (the C firmware
// built for the host: pending with the reason when it is not built, a failure under CI=true).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_CI, NATIVE_BINARY } from '../conformance/target.ts';
import { readmeBlock, ROOT } from '../readme/blocks.ts';
import { writeConsumerProject } from './consumer.ts';

const run = promisify(execFile);
const TOOLS = ['mocha', 'rxjs', 'tsx', 'typescript', '@types/node', '@types/mocha'];

describe('the packed package, installed offline into a fresh project', function () {
  this.timeout(300_000);
  let work = '';
  let project = '';
  let files: string[] = [];

  /** Runs a command in the project, without this run's target or npm settings leaking in. */
  const inProject = (cmd: string, args: string[], extraEnv: Record<string, string> = {}) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'FIBERRIG_TARGET' && k !== 'NODE_OPTIONS'));
    return run(cmd, args, { cwd: project, env: { ...env, ...extraEnv }, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'fiberrig-pack-'));
    const packed = await run('npm', ['pack', '--pack-destination', work, '--json', '--silent'], { cwd: ROOT, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
    const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info[0]!.files.map((f) => f.path);
    project = join(work, 'my-hil-tests');
    mkdirSync(join(project, 'test'), { recursive: true });
    writeConsumerProject(project, ROOT, `../${info[0]!.filename}`, TOOLS);
    await inProject('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error']);
    writeFileSync(join(project, 'test', 'hil.test.ts'), readmeBlock('hil-example'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node', 'mocha'], skipLibCheck: false },
      include: ['test'],
    }));
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the compiled entry points and the CLI, and no tests', () => {
    for (const f of ['dist/host/index.js', 'dist/host/index.d.ts', 'dist/host/sim.js', 'dist/host/testing/index.js', 'dist/host/dsp/index.d.ts', 'host/cli/bin.js', 'README.md']) {
      assert.ok(files.includes(f), `the tarball has ${f}`);
    }
    assert.deepEqual(files.filter((f) => f.startsWith('test/') || f.includes('/.cache/') || f.startsWith('hardware/firmware/')), []);
  });

  it('loads every entry point in plain Node, without a TypeScript loader', async () => {
    const script = "const m = await Promise.all(['fiberrig', 'fiberrig/sim', 'fiberrig/testing', 'fiberrig/dsp'].map((x) => import(x))); console.log(JSON.stringify([typeof m[0].Rig, typeof m[0].demodulate, typeof m[1].createSimDevice, typeof m[2].useTarget, typeof m[3].LockinDemodulator]));";
    const { stdout } = await inProject(process.execPath, ['--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(stdout), ['function', 'function', 'function', 'function', 'function']);
  });

  it('type-checks the README example against the shipped declarations', async () => {
    await inProject(join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']).catch((e: { stdout?: string }) => assert.fail(`tsc: ${e.stdout}`));
  });

  const mochaRun = async (env: Record<string, string>): Promise<{ passes: number; failures: number; pending: number }> => {
    const { stdout } = await inProject(join(project, 'node_modules', '.bin', 'mocha'), ['--import=tsx', '--reporter', 'json', 'test/hil.test.ts'], env)
      .catch((e: { stdout?: string; stderr?: string }) => assert.fail(`mocha failed: ${e.stdout}${e.stderr}`));
    return (JSON.parse(stdout) as { stats: { passes: number; failures: number; pending: number } }).stats;
  };

  it('runs the README\'s HIL test on sim', async () => {
    const s = await mochaRun({});
    assert.deepEqual([s.passes, s.failures, s.pending], [1, 0, 0]);
  });

  it('runs the README\'s HIL test on native (the C firmware built for the host)', async function () {
    if (!existsSync(NATIVE_BINARY)) {
      const why = `${NATIVE_BINARY} is not built: run \`npm run firmware:build\``;
      if (IN_CI) assert.fail(why);
      this.test!.title += ` (pending: ${why})`;
      this.skip();
    }
    const s = await mochaRun({ FIBERRIG_TARGET: 'native', FIBERRIG_FIRMWARE_BUILD: join(NATIVE_BINARY, '..', '..') });
    assert.deepEqual([s.passes, s.failures, s.pending], [1, 0, 0]);
  });

  it('ships the fiberrig command', async () => {
    const { stdout } = await inProject(join(project, 'node_modules', '.bin', 'fiberrig'), ['--version']);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.match(stdout, new RegExp(version.replaceAll('.', '\\.')));
  });
});
