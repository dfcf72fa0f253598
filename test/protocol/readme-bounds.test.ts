// protocol/README.md lists the nanopb bounds of fiberrig.options (what a host must stay within, and what
// the devices answer with FIELD_TOO_LONG beyond): this keeps the table and the options file equal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadFieldBounds } from '../../firmware-sim/device/bounds.ts';

const readme = readFileSync(new URL('../../protocol/README.md', import.meta.url), 'utf8');

describe('protocol/README.md: the field bounds table equals fiberrig.options', () => {
  it('every bound of fiberrig.options is in the table with its option and what fits, and nothing else is', () => {
    const rows = [...readme.matchAll(/^\| `(\w+\.\w+)` \| (max_size|max_count) (\d+) \| at most (\d+) (bytes|entries)/gm)];
    const table = new Map(rows.map((m) => [m[1]!, { option: m[2]!, n: Number(m[3]), fits: Number(m[4]), unit: m[5]! }]));
    const options = loadFieldBounds();
    assert.ok(options.size >= 30, `${options.size} bounds read from fiberrig.options`);
    assert.deepEqual([...table.keys()].sort(), [...options.keys()].sort(), 'the same fields');
    const proto = readFileSync(new URL('../../protocol/fiberrig.proto', import.meta.url), 'utf8');
    for (const [field, bound] of options) {
      const row = table.get(field)!;
      if (bound.maxCount !== undefined) {
        assert.deepEqual(row, { option: 'max_count', n: bound.maxCount, fits: bound.maxCount, unit: 'entries' }, field);
      } else {
        // a string keeps nanopb's terminating NUL inside max_size; bytes do not
        const [message, name] = field.split('.') as [string, string];
        const body = new RegExp(`message ${message} \\{([^}]*)\\}`).exec(proto)?.[1] ?? '';
        const isBytes = new RegExp(`\\bbytes ${name} =`).test(body);
        assert.ok(isBytes || new RegExp(`\\bstring ${name} =`).test(body), `${field} is a string or bytes field of the .proto`);
        assert.deepEqual(row, { option: 'max_size', n: bound.maxSize, fits: isBytes ? bound.maxSize : bound.maxSize! - 1, unit: 'bytes' }, field);
      }
    }
  });
});
