// Import boundaries between protocol/, firmware-sim/, host/ and hardware/
// (rules.ts), checked over every source file, and the checker itself: it
// must find every form of import and report a bad one with file, line and rule.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectImports, type ImportRef, scanImports } from './imports.ts';
import { checkBoundaries, formatViolations, HOST_PUBLIC_API, RULES, SIM_REGISTRATION } from './rules.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const specs = (refs: ImportRef[]): Array<[string | null, string]> => refs.map((r) => [r.specifier, r.kind]);

describe('import boundaries', () => {
  describe('the repository', () => {
    it('keeps every boundary (protocol alone, firmware-sim without host, host reaches the simulator through one module, hardware through the public API)', () => {
      const modules = collectImports(ROOT);
      const violations = checkBoundaries(modules);
      assert.equal(violations.length, 0, `\n${formatViolations(violations)}`);
      // the scan saw the repository, not an empty folder
      assert.ok(modules.length > 300, `${modules.length} files`);
      const devices = modules.find((m) => m.file === SIM_REGISTRATION);
      assert.ok(devices?.imports.some((r) => r.specifier === '../../firmware-sim/simulator.ts'), 'the registration module imports the simulator facade');
      for (const file of HOST_PUBLIC_API) assert.ok(modules.some((m) => m.file === file), `public host module ${file} exists`);
    });
  });

  describe('scanImports', () => {
    it('finds static, type, side-effect, export-from, dynamic, typeof import(), require and new URL(…, import.meta.url) imports, with lines', () => {
      const source = [
        "import a from './a.ts';",
        "import type { B } from './b.ts';",
        "import { type C, d as e } from '../c.ts';",
        "import * as f from 'node:fs';",
        "import './side.ts';",
        'import {',
        '  g,',
        "} from './multi.ts';",
        "export * from './star.ts';",
        "export * as ns from './ns.ts';",
        "export { h } from './h.ts';",
        "export type { I } from './i.ts';",
        "const j = await import('./lazy.ts');",
        "type K = typeof import('./k.ts');",
        "const l = require('./l.cjs');",
        "const m = new URL('./worker.ts', import.meta.url);",
        'const n = await import(`./tmpl.ts`);',
        'const o = await import(path);',
        "import type from './default-named-type.ts';",
      ].join('\n');
      const refs = scanImports(source);
      assert.deepEqual(specs(refs), [
        ['./a.ts', 'static'], ['./b.ts', 'type'], ['../c.ts', 'static'], ['node:fs', 'static'], ['./side.ts', 'side-effect'], ['./multi.ts', 'static'],
        ['./star.ts', 'export-from'], ['./ns.ts', 'export-from'], ['./h.ts', 'export-from'], ['./i.ts', 'type'],
        ['./lazy.ts', 'dynamic'], ['./k.ts', 'type-query'], ['./l.cjs', 'require'], ['./worker.ts', 'url'], ['./tmpl.ts', 'dynamic'], [null, 'dynamic'],
        ['./default-named-type.ts', 'static'],
      ]);
      assert.deepEqual(refs.map((r) => r.line), [1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    });

    it('ignores look-alikes in comments, strings, templates and regular expressions, properties, object keys and import.meta', () => {
      const source = [
        "// import x from './comment.ts';",
        "/* export * from './block.ts'; */",
        "const s = \"import y from './string.ts'\";",
        "const t = `import z from './template.ts'`;",
        "const re = /import w from '.\\/regex.ts'/;",
        "const div = total! / count / 2; const q = 'import v from \"./after-division.ts\"';",
        "loader.import('./property.ts'); obj?.require('./optional.ts');",
        "const table = { import: './key.ts', export: 1 };",
        'const here = import.meta.url;',
        // a template whose substitutions hold an import and a nested template ('$' + '{' keeps lint from reading them as placeholders)
        "const inner = `$" + "{await import('./inside-substitution.ts')} and $" + "{`nested $" + "{'./not-a-spec.ts'}`}`;",
        "if (/['\"]/.test(x)) { import('./after-regex.ts'); }",
      ].join('\n');
      assert.deepEqual(specs(scanImports(source)), [['./inside-substitution.ts', 'dynamic'], ['./after-regex.ts', 'dynamic']]);
    });

    it('refuses source it cannot read, naming the file', async () => {
      assert.throws(() => scanImports("import a from './a.ts;\n"), /unterminated string on line 1/);
      const dir = await mkdtemp(join(tmpdir(), 'fiberrig-boundaries-'));
      try {
        await mkdir(join(dir, 'host'));
        await writeFile(join(dir, 'host', 'broken.ts'), 'const t = `never closed;\n');
        assert.throws(() => collectImports(dir), /host\/broken\.ts: unterminated template literal from line 1/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('checkBoundaries', () => {
    it('reports a bad import added to a file on disk with its file, line and rule', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fiberrig-boundaries-'));
      const files: Record<string, string> = {
        'protocol/index.ts': "export * from './src/frame.ts';\n",
        'host/rig/rig.ts': "import { encode } from '../../protocol/index.ts';\n",
        'firmware-sim/device/good.ts': "import { encode } from '../../protocol/index.ts';\n",
        'firmware-sim/device/bad.ts': "// a simulator that peeks at the host\nimport { encode } from '../../protocol/index.ts';\nimport { Rig } from '../../host/rig/rig.ts';\n",
        'node_modules/pkg/index.js': "import '../../host/rig/rig.ts';\n",
      };
      try {
        for (const [file, text] of Object.entries(files)) {
          await mkdir(dirname(join(dir, file)), { recursive: true });
          await writeFile(join(dir, file), text);
        }
        const violations = checkBoundaries(collectImports(dir));
        assert.deepEqual(violations.map(({ file, line, rule, target }) => ({ file, line, rule, target })), [
          { file: 'firmware-sim/device/bad.ts', line: 3, rule: RULES.simNotHost.id, target: 'host/rig/rig.ts' },
        ]);
        assert.match(formatViolations(violations), /^firmware-sim\/device\/bad\.ts:3 \[firmware-sim-never-imports-host\] /);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('applies each rule: what is refused and what is allowed', () => {
      const cases: Array<[file: string, specifier: string | null, rule: string | null]> = [
        ['protocol/src/frame.ts', './cobs.ts', null],
        ['protocol/src/frame.ts', '@node-rs/crc32', null],
        ['protocol/src/frame.ts', '../../host/rig/rig.ts', RULES.protocol.id],
        ['protocol/index.ts', '../firmware-sim/simulator.ts', RULES.protocol.id],
        ['firmware-sim/device/device.ts', '../../protocol/index.ts', null],
        ['firmware-sim/device/device.ts', '../../host/link/link.ts', RULES.simNotHost.id],
        ['firmware-sim/device/device.ts', '../../hardware/boards/pyboard.ts', RULES.simNotHost.id],
        [SIM_REGISTRATION, '../../firmware-sim/simulator.ts', null],
        [SIM_REGISTRATION, '../../firmware-sim/transport/binding.ts', RULES.hostSim.id],
        ['host/cli/commands/calibrate.ts', '../../../firmware-sim/simulator.ts', RULES.hostSim.id],
        ['host/cli/commands/calibrate.ts', '../devices.ts', null],
        ['host/rig/rig.ts', '../../hardware/johnny-five/index.ts', RULES.hostNotHardware.id],
        ['hardware/johnny-five/fiberrig-io.ts', '../../host/rig/rig.ts', null],
        ['hardware/johnny-five/fiberrig-io.ts', '../../host/link/link.ts', RULES.hardwarePublic.id],
        ['hardware/examples/blink.ts', '../../host/cli/devices.ts', null],
        ['hardware/examples/blink.ts', '../../firmware-sim/simulator.ts', RULES.hardwarePublic.id],
        ['host/rig/rig.ts', '../../test/support/duplex-pair.ts', RULES.noTests.id],
        ['test/host/anything.test.ts', '../../firmware-sim/transport/binding.ts', null],
        ['test/host/anything.test.ts', '../../hardware/firmware/fuzz/seeds.ts', null],
        ['host/record/version.ts', '../../package.json', null],
        ['host/x.ts', '../../outside.ts', RULES.insideRepo.id],
        ['host/x.ts', '/abs/path.ts', RULES.insideRepo.id],
        ['host/live/public/plots.js', '/vendor/uPlot.esm.js', null],
        ['host/x.ts', null, RULES.literal.id],
        ['host/cli/main.ts', null, null],
        ['test/bench/run.ts', null, null],
        ['scripts/tool.ts', 'node:fs', RULES.knownZone.id],
        ['scratch.ts', '../outside-from-root.ts', RULES.insideRepo.id],
        ['scratch.ts', './firmware-sim/simulator.ts', null],
      ];
      for (const [file, specifier, rule] of cases) {
        const found = checkBoundaries([{ file, imports: [{ specifier, kind: specifier === null ? 'dynamic' : 'static', line: 7 }] }]);
        assert.deepEqual(found.map((v) => v.rule), rule ? [rule] : [], `${file} -> ${specifier}: ${formatViolations(found)}`);
        for (const v of found) assert.equal(v.file, file);
      }
    });
  });
});
