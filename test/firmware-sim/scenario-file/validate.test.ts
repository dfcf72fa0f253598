// Scenario files: a malformed document is refused whole, with one line per problem naming its
// field; nothing is created from it (issue 18, acceptance 3, second half).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSimUrl } from '../../../firmware-sim/transport/sim-url.ts';
import { BUILTIN_SCENARIOS } from '../../../firmware-sim/world/scenario-file/builtins.ts';
import { parseScenarioSpec } from '../../../firmware-sim/world/scenario-file/parse.ts';

function errorOf(f: () => unknown): { code: string; message: string; hint: string } {
  try {
    f();
  } catch (error) {
    return error as { code: string; message: string; hint: string };
  }
  assert.fail('expected an error');
}

describe('scenario files: validation names every bad field', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'fiberrig-scenario-bad-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a document with seven problems gets E_SIM_SCENARIO_FILE and one line per field', () => {
    const doc = structuredClone(BUILTIN_SCENARIOS['sleep']!) as Record<string, unknown>;
    doc['colour'] = 'blue';
    (doc['optics'] as Record<string, unknown>)['gridS'] = 0.5;
    (doc['optics'] as Record<string, unknown>)['brightness'] = { grabNe: -1, redDye: 2e-3, tissueAf: 6e-4, fiberAf: 3e-4 };
    doc['sleep'] = { neFrequencyHz: 'fast', hypnogram: { nremS: [900, 60] } };
    doc['timeline'] = [
      { kind: 'drug', atS: -5, neAmplitudeScale: 0.5 },
      { kind: 'teleport', atS: 10 },
      { kind: 'step', atS: 10, fluorophore: 'gfp', level: 0.1 },
    ];
    const e = errorOf(() => parseScenarioSpec(doc, 'my.json'));
    assert.equal(e.code, 'E_SIM_SCENARIO_FILE');
    assert.match(e.message, /^my\.json is not a valid scenario \(\d+ problems\)/);
    for (const field of ['colour: unknown field', 'optics.gridS:', 'optics.brightness.grabNe:', 'sleep.neFrequencyHz:', 'sleep.hypnogram.nremS:', 'timeline[0].atS:', 'timeline[1]', 'timeline[2].fluorophore:']) {
      assert.ok(e.message.includes(field), `names ${field}:\n${e.message}`);
    }
    assert.match(e.hint, /README|schema/);
  });

  it('cross-field rules once the fields are well-formed: a drug or state markers need model "sleep", a line is defined once', () => {
    const doc = structuredClone(BUILTIN_SCENARIOS['steps']!);
    doc.timeline = [{ kind: 'drug', atS: 60, neAmplitudeScale: 0.5 }];
    doc.digital = [...(doc.digital ?? []), { kind: 'stateMarkers', line: 1, widthS: 0.05 }];
    const e = errorOf(() => parseScenarioSpec(doc, 'x.json'));
    assert.ok(e.message.includes('timeline[0].kind: a drug'), e.message);
    assert.ok(e.message.includes('digital[2].kind: stateMarkers needs model "sleep"'), e.message);
    assert.ok(e.message.includes('digital[2].line: line 1 is defined twice'), e.message);
  });

  it('sim://file: a missing file, a file that is not JSON, a bad fault string and a missing path are refused before anything runs', () => {
    const missing = errorOf(() => parseSimUrl(`sim://file?path=${encodeURIComponent(join(dir, 'nope.json'))}`));
    assert.equal(missing.code, 'E_SIM_SCENARIO_FILE');
    assert.match(missing.message, /cannot read scenario file/);
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ "format": ');
    assert.match(errorOf(() => parseSimUrl(`sim://file?path=${encodeURIComponent(notJson)}`)).message, /is not JSON/);
    const badFault = join(dir, 'fault.json');
    writeFileSync(badFault, JSON.stringify({ ...BUILTIN_SCENARIOS['dark'], device: { faults: ['disconnect@5:for=2', 'explode@3'] } }));
    const f = errorOf(() => parseSimUrl(`sim://file?path=${encodeURIComponent(badFault)}`));
    assert.equal(f.code, 'E_SIM_SCENARIO_FILE');
    assert.ok(f.message.includes('device.faults[1]'), f.message);
    assert.equal(errorOf(() => parseSimUrl('sim://file')).code, 'E_SIM_URL');
    assert.equal(errorOf(() => parseSimUrl(`sim://sleep?path=${encodeURIComponent(badFault)}`)).code, 'E_SIM_URL');
  });

  it("a file's fault timeline runs before the URL's faults", () => {
    const file = join(dir, 'faults.json');
    writeFileSync(file, JSON.stringify({ ...BUILTIN_SCENARIOS['dark'], device: { faults: ['disconnect@5:for=2'] } }));
    const u = parseSimUrl(`sim://file?path=${encodeURIComponent(file)}&faults=reset@10`);
    assert.deepEqual(u.faults.map((f) => [f.type, f.atS]), [['disconnect', 5], ['reset', 10]]);
  });
});
