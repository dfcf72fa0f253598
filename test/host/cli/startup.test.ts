// Issue 17, point 7: `--version`; commands registered from one table and
// loaded only when run (so `--help` needs no command module and no TypeScript
// loader); bin.js runs main compiled to JS, rebuilt when main.ts is newer, and
// falls back to tsx when it cannot build. (The cold-start time itself is
// measured in test/bench/cli.bench.ts, not asserted here.)
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMMAND_NAMES } from '../../../host/cli/main.ts';
import { tempDir } from '../record/helpers.ts';
import { cli, runNode } from './helpers.ts';

const REPO = resolve('.');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

const node = (args: string[], cwd = REPO) => runNode(args, { cwd });

/** A copy of the package with bin.js and main.ts (and what bin.js imports: the preload list, the V8 settings) only (no command module), node_modules linked. */
function packageCopy(root: string): string {
  mkdirSync(join(root, 'host', 'cli'), { recursive: true });
  copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  for (const f of ['bin.js', 'main.ts', 'native-preloads.js', 'v8-flags.js']) copyFileSync(join(REPO, 'host', 'cli', f), join(root, 'host', 'cli', f));
  return join(root, 'host', 'cli', 'bin.js');
}

describe('cli: start-up (--version, lazily loaded commands, compiled entry)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => { tmp = tempDir('fiberrig-cli-start-'); });
  after(() => tmp.cleanup());

  it('--version and -V print the version in package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${VERSION}\n`);
    }
  });

  it('--help lists every command of the table (info included), and every command\'s own help loads its module', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.ok(COMMAND_NAMES.includes('info'));
    for (const name of COMMAND_NAMES) assert.match(r.stdout, new RegExp(`^ {2}${name}\\b`, 'm'), name);
    for (const name of COMMAND_NAMES) {
      const own = await cli([name, '--help']);
      assert.equal(own.code, 0, `${name}: ${own.stderr}`);
      assert.match(own.stdout, new RegExp(`^Usage: fiberrig ${name} `, 'm'), name);
      // a module that defined nothing would show no options but --help
      assert.match(own.stdout, /--(json|device|in|board|pty)\b/, name);
    }
  });

  it('bin.js builds main.js when it is missing or main.ts changed (newer or older mtime); --help and --version need no command module', async () => {
    // a copy of the package with main.ts and bin.js only: no command module exists there
    const root = join(tmp.dir, 'pkg');
    const bin = packageCopy(root);
    const compiled = join(root, 'host', 'cli', '.cache', 'main.js');

    const v = await node([bin, '--version'], root);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout, `${VERSION}\n`);
    assert.ok(existsSync(compiled), 'main.js was built');
    const help = await node([bin, '--help'], root);
    assert.equal(help.code, 0, help.stderr);
    for (const name of COMMAND_NAMES) assert.match(help.stdout, new RegExp(`^ {2}${name}\\b`, 'm'), name);
    // a command is loaded when it runs: here its module is missing
    const ports = await node([bin, 'ports'], root);
    assert.notEqual(ports.code, 0);
    assert.match(ports.stderr, /commands[/\\]ports\.ts/);

    // main.ts edited after the build: rebuilt, and the edit shows
    const source = join(root, 'host', 'cli', 'main.ts');
    writeFileSync(source, readFileSync(source, 'utf8').replace("'fiber photometry rig controller'", "'edited description'"));
    const older = new Date(Date.now() - 3_600_000); // an older mtime (a checkout) must rebuild as well
    utimesSync(source, older, older);
    const edited = await node([bin, '--help'], root);
    assert.equal(edited.code, 0, edited.stderr);
    assert.match(edited.stdout, /edited description/);
    assert.ok(Math.abs(statSync(compiled).mtimeMs - statSync(source).mtimeMs) < 1, 'main.js was rebuilt from this main.ts');
    // and is not rebuilt again while main.ts stays as it is (its mtime written now, to the file system's precision)
    writeFileSync(source, readFileSync(source, 'utf8'));
    assert.equal((await node([bin, '--version'], root)).code, 0);
    const built = statSync(compiled).ino; // every build renames a new file into place
    assert.equal((await node([bin, '--version'], root)).code, 0);
    assert.equal(statSync(compiled).ino, built, 'main.js was not rebuilt');
  });

  it('bin.js runs main.ts through tsx when it cannot build (no room for .cache/), and a command runs from the compiled entry too', async () => {
    const root = join(tmp.dir, 'readonly-cache');
    const bin = packageCopy(root);
    writeFileSync(join(root, 'host', 'cli', '.cache'), 'a file where the cache folder would go');
    const r = await node([bin, '--version'], root);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);

    // the repository's own entry: compiled main, then tsx for the command's module
    const loop = await node([join(REPO, 'host', 'cli', 'bin.js'), 'loopback', '--json']);
    assert.equal(loop.code, 0, loop.stderr);
    const summary = JSON.parse(loop.stdout) as { framesRejected: Record<string, number>; protocol: string };
    assert.deepEqual(Object.values(summary.framesRejected).filter((n) => n !== 0), []);
    assert.match(summary.protocol, /^\d+\.\d+$/);
  });
});
