// fast-check arbitraries for every fiberrig message, derived from the .proto
// by reflection, so a message added to the contract is covered automatically.
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';

const protoPath = fileURLToPath(new URL('../../protocol/fiberrig.proto', import.meta.url));
export const reflectionRoot = protobuf.loadSync(protoPath);
export const EnvelopeType = reflectionRoot.lookupType('fiberrig.v1.Envelope');

/** Names of Envelope.body members (camelCase, as the generated code spells them). */
export const bodyNames: string[] = EnvelopeType.oneofs.body!.fieldsArray.map((f) => f.name);

const maxU32 = 0xffffffff;
const f32 = (x: number): number => Math.fround(x);

function scalar(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'uint32': return fc.integer({ min: 0, max: maxU32 });
    case 'int32': case 'sint32': return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint64': return fc.maxSafeNat();
    case 'int64': case 'sint64': return fc.maxSafeInteger();
    case 'bool': return fc.boolean();
    case 'float': return fc.float({ noNaN: true, noDefaultInfinity: true }).map(f32);
    case 'double': return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'string': return fc.string({ maxLength: 24 });
    case 'bytes': return fc.uint8Array({ maxLength: 600 });
    default: throw new Error(`no arbitrary for ${type}`);
  }
}

const cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>();

export function messageArbitrary(type: protobuf.Type, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const cached = cache.get(type.fullName);
  if (cached) return cached;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  const oneofMembers = new Set<string>();
  for (const oneof of type.oneofsArray) for (const f of oneof.fieldsArray) oneofMembers.add(f.name);
  for (const field of type.fieldsArray) {
    if (oneofMembers.has(field.name)) continue;
    const value = fieldArbitrary(field, depth);
    parts[field.name] = field.repeated ? fc.array(value, { maxLength: 4 }) : value;
  }
  let arb: fc.Arbitrary<Record<string, unknown>> = fc.record(parts, { requiredKeys: [] });
  for (const oneof of type.oneofsArray) {
    const choices = oneof.fieldsArray.map((f) => fieldArbitrary(f, depth).map((v) => ({ [f.name]: v })));
    const pick = fc.option(fc.oneof(...choices), { nil: undefined });
    arb = fc.tuple(arb, pick).map(([base, extra]) => ({ ...base, ...(extra ?? {}) }));
  }
  cache.set(type.fullName, arb);
  return arb;
}

function fieldArbitrary(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Enum) return fc.constantFrom(...Object.values(resolved.values));
  if (resolved instanceof protobuf.Type) return messageArbitrary(resolved, depth + 1);
  return scalar(field.type);
}

/** An Envelope whose body is exactly `name`. */
export function envelopeWithBody(name: string): fc.Arbitrary<Record<string, unknown>> {
  const field = EnvelopeType.oneofs.body!.fieldsArray.find((f) => f.name === name);
  if (!field) throw new Error(`no body ${name}`);
  return fc.record({
    requestId: scalar('uint32'),
    [name]: fieldArbitrary(field, 0),
  });
}

/** Any Envelope. */
export const anyEnvelope: fc.Arbitrary<Record<string, unknown>> = fc.oneof(...bodyNames.map(envelopeWithBody));
