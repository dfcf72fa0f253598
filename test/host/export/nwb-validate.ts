// A validator for fiberrig's NWB files that walks the specification data
// (host/export/nwb/spec*.ts, or the copy cached in the file's /specifications)
// against the file as h5wasm reads it back: required groups, datasets,
// attributes and links, dtypes, shapes, fixed values, neurodata_type_inc
// chains and object references. Each error names the object and what is wrong.
import h5wasm from 'h5wasm/node';
import {
  type AttributeSpec, type DatasetSpec, type GroupSpec, isMany, isRequired, type NamespaceSpec, type Quantity,
  type RefDtype, type SpecDtype, type SpecShape, typeDef, typeInc,
} from '../../../host/export/nwb/spec.ts';

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
type H5Object = H5Group | H5Dataset;
interface H5Meta { type: number; size: number; signed: boolean; shape?: number[] | null }
interface H5Attr { value: unknown; shape: number[] | null; metadata: H5Meta }

interface TypeEntry {
  namespace: string;
  kind: 'group' | 'dataset';
  spec: GroupSpec | DatasetSpec;
}

/** Every type defined by a set of namespaces, with inheritance resolved. */
export class SpecRegistry {
  readonly types = new Map<string, TypeEntry>();
  readonly errors: string[] = [];

  constructor(readonly namespaces: readonly NamespaceSpec[]) {
    for (const ns of namespaces) {
      for (const src of ns.sources) {
        for (const g of src.groups ?? []) this.add(ns.name, 'group', g);
        for (const d of src.datasets ?? []) this.add(ns.name, 'dataset', d);
      }
    }
    for (const ns of namespaces) {
      for (const inc of ns.includes) {
        const dep = namespaces.find((n) => n.name === inc.namespace);
        if (!dep) this.errors.push(`namespace ${ns.name} includes ${inc.namespace}, which is not present`);
        for (const t of inc.neurodata_types ?? []) {
          if (this.types.get(t)?.namespace !== inc.namespace) this.errors.push(`namespace ${ns.name} includes type ${t} from ${inc.namespace}, which does not define it`);
        }
      }
    }
    for (const [name, e] of this.types) {
      const parent = typeInc(e.spec);
      if (parent && !this.types.has(parent)) this.errors.push(`type ${name}: its parent ${parent} is not defined`);
      this.forEachMemberInc(e.spec, (inc) => {
        if (!this.types.has(inc)) this.errors.push(`type ${name}: a member includes ${inc}, which is not defined`);
      });
    }
  }

  private add(namespace: string, kind: 'group' | 'dataset', spec: GroupSpec | DatasetSpec): void {
    const name = typeDef(spec);
    if (!name) return;
    if (this.types.has(name)) this.errors.push(`type ${name} is defined twice`);
    this.types.set(name, { namespace, kind, spec });
  }

  private forEachMemberInc(spec: GroupSpec | DatasetSpec, f: (inc: string) => void): void {
    const g = spec as GroupSpec;
    for (const m of [...(g.groups ?? []), ...(g.datasets ?? [])]) {
      const inc = typeInc(m);
      if (inc && !typeDef(m)) f(inc);
      if (!typeDef(m)) this.forEachMemberInc(m, f);
    }
    for (const l of g.links ?? []) f(l.target_type);
  }

  /** The type and its ancestors, the type first. */
  chain(type: string): string[] {
    const out: string[] = [];
    for (let t: string | undefined = type; t && !out.includes(t); t = this.types.has(t) ? typeInc(this.types.get(t)!.spec) : undefined) out.push(t);
    return out;
  }

  isA(type: string, ancestor: string): boolean {
    return this.chain(type).includes(ancestor);
  }

  /** The type's spec with everything it inherits merged in (a member spec on top, if given). */
  resolve(type: string | undefined, member?: GroupSpec | DatasetSpec): GroupSpec & DatasetSpec {
    const layers = [...(type ? this.chain(type).reverse().map((t) => this.types.get(t)?.spec).filter((s) => s !== undefined) : []), ...(member ? [member] : [])];
    const out: GroupSpec & DatasetSpec = { doc: '' };
    const byKey = <T extends { name?: string }>(list: T[] | undefined, next: T[] | undefined, key: (x: T) => string): T[] => {
      const merged = new Map((list ?? []).map((x) => [key(x), x]));
      for (const x of next ?? []) merged.set(key(x), { ...(merged.get(key(x)) ?? {}), ...x });
      return [...merged.values()];
    };
    const memberKey = (x: GroupSpec | DatasetSpec): string => x.name ?? `<${typeInc(x)}>`;
    for (const s of layers) {
      const g = s as GroupSpec & DatasetSpec;
      out.attributes = byKey(out.attributes, g.attributes, (a) => a.name);
      out.datasets = byKey(out.datasets, g.datasets, memberKey);
      out.groups = byKey(out.groups, g.groups, memberKey);
      out.links = byKey(out.links, g.links, (l) => l.name ?? `<${l.target_type}>`);
      if (g.dtype !== undefined) out.dtype = g.dtype;
      if (g.shape !== undefined) out.shape = g.shape;
      if (g.value !== undefined) out.value = g.value;
      if (g.name !== undefined && s !== member) out.name = g.name;
    }
    return out;
  }
}

// ------------------------------------------------------------ dtypes and shapes

const TEXT = new Set(['text', 'utf', 'utf8', 'utf-8', 'ascii', 'bytes', 'str']);
const DATETIME = new Set(['isodatetime', 'datetime']);
const ISO_DATETIME = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/;

function isRef(d: SpecDtype | undefined): d is RefDtype {
  return typeof d === 'object' && d !== null && !Array.isArray(d);
}

/** Why an HDF5 type does not satisfy a spec dtype, or undefined if it does. */
function dtypeProblem(spec: SpecDtype | undefined, meta: H5Meta): string | undefined {
  if (spec === undefined) return undefined;
  const cls = meta.type; // 0 integer, 1 float, 3 string, 6 compound, 7 reference
  if (Array.isArray(spec)) return cls === 6 ? undefined : 'expected a compound dtype';
  if (isRef(spec)) return cls === 7 ? undefined : `expected object references to ${spec.target_type}`;
  const d = spec.toLowerCase();
  if (TEXT.has(d) || DATETIME.has(d)) return cls === 3 ? undefined : `expected ${d} (a string), got HDF5 class ${cls}`;
  if (d === 'numeric') return cls === 0 || cls === 1 ? undefined : `expected a number, got HDF5 class ${cls}`;
  const m = /^(float|int|uint|double|long|short)(\d+)?$/.exec(d);
  if (!m) return `unknown spec dtype ${d}`;
  const base = m[1]!;
  const bits = m[2] ? Number(m[2]) : base === 'double' || base === 'long' ? 64 : base === 'short' ? 16 : base === 'int' || base === 'uint' ? 8 : 32;
  if (base === 'float' || base === 'double') {
    if (cls !== 1) return `expected ${d}, got HDF5 class ${cls}`;
    return meta.size * 8 >= bits ? undefined : `expected ${d}, got a ${meta.size * 8}-bit float`;
  }
  if (cls !== 0) return `expected ${d}, got HDF5 class ${cls}`;
  if (base === 'uint' && meta.signed) return `expected ${d}, got a signed integer`;
  return meta.size * 8 >= bits ? undefined : `expected ${d}, got a ${meta.size * 8}-bit integer`;
}

function shapeProblem(spec: SpecShape | undefined, shape: number[]): string | undefined {
  if (spec === undefined) return shape.length === 0 ? undefined : `expected a scalar, got shape [${shape.join(', ')}]`;
  const options = (spec.length > 0 && Array.isArray(spec[0]) ? spec : [spec]) as Array<Array<number | null>>;
  const fits = options.some((o) => o.length === shape.length && o.every((n, i) => n === null || n === shape[i]));
  return fits ? undefined : `shape [${shape.join(', ')}] is not one of ${options.map((o) => `[${o.map((n) => n ?? 'any').join(', ')}]`).join(' | ')}`;
}

function countOk(q: Quantity | undefined, n: number): boolean {
  if (q === '*') return true;
  if (q === '+') return n >= 1;
  if (q === '?') return n <= 1;
  return n === (q ?? 1);
}

// ------------------------------------------------------------ the walk

export class NwbValidator {
  readonly errors: string[] = [];
  checked = 0;

  constructor(private readonly f: H5File, readonly registry: SpecRegistry) {
    this.errors.push(...registry.errors.map((e) => `spec: ${e}`));
  }

  private error(path: string, message: string): void {
    const text = `${path || '/'}: ${message}`;
    if (!this.errors.includes(text)) this.errors.push(text);
  }

  private typeOf(obj: H5Object): string | undefined {
    const a = obj.attrs.neurodata_type as unknown as H5Attr | undefined;
    return a ? String(a.value) : undefined;
  }

  private deref(value: unknown): H5Object | null {
    try {
      return this.f.dereference((Array.isArray(value) ? value[0] : value) as never) as unknown as H5Object | null;
    } catch {
      return null;
    }
  }

  private checkRefs(path: string, what: string, values: unknown, target: string): void {
    const list = Array.isArray(values) ? values : [values];
    for (const [i, v] of list.entries()) {
      const obj = this.deref(v);
      if (!obj) {
        this.error(path, `${what}[${i}]: reference does not resolve`);
        continue;
      }
      const t = this.typeOf(obj);
      if (!t || !this.registry.isA(t, target)) this.error(path, `${what}[${i}]: references ${obj.path} of type ${t ?? 'none'}, expected ${target}`);
    }
  }

  private attributes(obj: H5Object, specs: AttributeSpec[] | undefined): void {
    for (const s of specs ?? []) {
      const a = obj.attrs[s.name] as unknown as H5Attr | undefined;
      if (!a) {
        if (s.required !== false) this.error(obj.path, `missing required attribute ${s.name}`);
        continue;
      }
      this.checked++;
      const dt = dtypeProblem(s.dtype, a.metadata);
      if (dt) this.error(obj.path, `attribute ${s.name}: ${dt}`);
      const sh = shapeProblem(s.shape, a.shape ?? []);
      if (sh) this.error(obj.path, `attribute ${s.name}: ${sh}`);
      if (s.value !== undefined && a.value !== s.value && Number(a.value) !== s.value) this.error(obj.path, `attribute ${s.name} must be ${JSON.stringify(s.value)}, is ${JSON.stringify(a.value)}`);
      if (isRef(s.dtype) && !dt) this.checkRefs(obj.path, `attribute ${s.name}`, a.value, s.dtype.target_type);
    }
  }

  private dataset(ds: H5Dataset, spec: DatasetSpec): void {
    this.checked++;
    const meta = ds.metadata as unknown as H5Meta;
    const dt = dtypeProblem(spec.dtype, meta);
    if (dt) this.error(ds.path, dt);
    const sh = shapeProblem(spec.shape, ds.shape ?? []);
    if (sh) this.error(ds.path, sh);
    if (!dt && typeof spec.dtype === 'string' && DATETIME.has(spec.dtype)) {
      const v = ds.value;
      for (const s of Array.isArray(v) ? v : [v]) if (!ISO_DATETIME.test(String(s))) this.error(ds.path, `"${String(s)}" is not an ISO 8601 date-time`);
    }
    if (!dt && isRef(spec.dtype)) this.checkRefs(ds.path, 'value', ds.value, spec.dtype.target_type);
    if (spec.value !== undefined && ds.value !== spec.value) this.error(ds.path, `must be ${JSON.stringify(spec.value)}`);
    this.attributes(ds, spec.attributes);
  }

  /** Checks a member (named or matched by type) of a group against its spec. */
  private members(g: H5Group, specs: Array<GroupSpec | DatasetSpec> | undefined, kind: 'group' | 'dataset'): void {
    const children = g.keys().map((k) => ({ name: k, obj: g.get(k) as H5Object | null }));
    const isKind = (o: H5Object | null): o is H5Object => (kind === 'group' ? o instanceof h5wasm.Group : o instanceof h5wasm.Dataset);
    for (const s of specs ?? []) {
      const inc = typeInc(s);
      if (s.name !== undefined) {
        const child = children.find((c) => c.name === s.name)?.obj ?? null;
        if (!isKind(child)) {
          if (child) this.error(`${g.path}/${s.name}`, `expected a ${kind}`);
          else if (isRequired(s.quantity)) this.error(g.path, `missing required ${kind} ${s.name}${inc ? ` (${inc})` : ''}`);
          continue;
        }
        const t = this.typeOf(child);
        if (inc && (!t || !this.registry.isA(t, inc))) this.error(child.path, `expected type ${inc}, found ${t ?? 'no neurodata_type'}`);
        this.check(child, this.registry.resolve(inc, s));
      } else if (inc) {
        const matching = children.filter((c) => isKind(c.obj) && (() => {
          const t = this.typeOf(c.obj!);
          return t !== undefined && this.registry.isA(t, inc);
        })());
        if (!countOk(s.quantity, matching.length)) {
          this.error(g.path, `${matching.length} ${kind}s of type ${inc}; the spec allows ${s.quantity ?? 'exactly 1'}`);
        }
        if (!isMany(s.quantity)) for (const m of matching) this.check(m.obj!, this.registry.resolve(this.typeOf(m.obj!), s));
      }
    }
  }

  private check(obj: H5Object, spec: GroupSpec & DatasetSpec): void {
    if (obj instanceof h5wasm.Dataset) {
      this.dataset(obj, spec);
      return;
    }
    this.checked++;
    this.attributes(obj, spec.attributes);
    this.members(obj as H5Group, spec.datasets, 'dataset');
    this.members(obj as H5Group, spec.groups, 'group');
    for (const l of spec.links ?? []) {
      if (l.name === undefined) continue;
      const g = obj as H5Group;
      if (!g.keys().includes(l.name)) {
        if (isRequired(l.quantity)) this.error(obj.path, `missing required link ${l.name} (${l.target_type})`);
        continue;
      }
      this.checked++;
      const target = g.get(l.name);
      const t = target instanceof h5wasm.Group || target instanceof h5wasm.Dataset ? this.typeOf(target as H5Object) : undefined;
      if (!t || !this.registry.isA(t, l.target_type)) this.error(`${obj.path}/${l.name}`, `link to ${g.get_link(`${obj.path}/${l.name}`) ?? 'nothing'} of type ${t ?? 'none'}, expected ${l.target_type}`);
    }
  }

  /** Every typed object in the file, against its own type (and namespace). */
  validateTypedObjects(): void {
    const visit = (obj: H5Object): void => {
      const t = this.typeOf(obj);
      if (t !== undefined) {
        const entry = this.registry.types.get(t);
        const ns = obj.attrs.namespace as unknown as H5Attr | undefined;
        if (!entry) this.error(obj.path, `type ${t} is not defined by any namespace`);
        else {
          if (String(ns?.value) !== entry.namespace) this.error(obj.path, `namespace attribute ${JSON.stringify(ns?.value)}, but ${t} belongs to ${entry.namespace}`);
          if ((entry.kind === 'group') !== obj instanceof h5wasm.Group) this.error(obj.path, `${t} must be a ${entry.kind}`);
          if (!obj.attrs.object_id) this.error(obj.path, 'missing object_id');
          const spec = this.registry.resolve(t);
          if (spec.name !== undefined && spec.name !== 'root' && obj.path.split('/').at(-1) !== spec.name) this.error(obj.path, `${t} must be named ${spec.name}`);
          this.check(obj, spec);
        }
      }
      if (obj instanceof h5wasm.Group && obj.path !== '/specifications') {
        for (const k of obj.keys()) {
          if (obj.get_link(`${obj.path === '/' ? '' : obj.path}/${k}`) !== null) continue; // a soft link: its target is checked where it lives
          const child = obj.get(k);
          if (child instanceof h5wasm.Group || child instanceof h5wasm.Dataset) visit(child as H5Object);
        }
      }
    };
    const root = this.f as unknown as H5Group;
    if (this.typeOf(root) !== 'NWBFile') this.error('/', 'the root is not typed NWBFile');
    visit(root);
  }
}

// ------------------------------------------------------------ the cached spec

/** The namespaces cached in the file's /specifications, parsed back into spec data. */
export function readCachedSpec(f: H5File): { namespaces: NamespaceSpec[]; errors: string[] } {
  const errors: string[] = [];
  const namespaces: NamespaceSpec[] = [];
  const specloc = (f as unknown as H5Group).attrs['.specloc'] as unknown as H5Attr | undefined;
  const specs = f.get('specifications');
  if (!specloc) errors.push('/: missing .specloc attribute');
  else if (specloc.metadata.type !== 7) errors.push('/: .specloc is not an object reference');
  else {
    let target: H5Object | null = null;
    try {
      target = f.dereference((Array.isArray(specloc.value) ? specloc.value[0] : specloc.value) as never) as unknown as H5Object | null;
    } catch { /* reported below */ }
    if (target?.path !== '/specifications') errors.push(`/: .specloc references ${target?.path ?? 'nothing'}, not /specifications`);
  }
  if (!(specs instanceof h5wasm.Group)) return { namespaces, errors: [...errors, '/specifications is missing'] };
  for (const name of specs.keys()) {
    const nsGroup = specs.get(name) as H5Group;
    for (const version of nsGroup.keys()) {
      const vGroup = nsGroup.get(version) as H5Group;
      const text = (key: string): string | undefined => {
        const ds = vGroup.get(key);
        return ds instanceof h5wasm.Dataset && typeof ds.value === 'string' ? ds.value : undefined;
      };
      const nsText = text('namespace');
      if (!nsText) {
        errors.push(`${vGroup.path}: no namespace dataset`);
        continue;
      }
      const doc = (JSON.parse(nsText) as { namespaces: Array<Record<string, unknown>> }).namespaces[0]!;
      if (doc.name !== name || doc.version !== version) errors.push(`${vGroup.path}: namespace says ${String(doc.name)} ${String(doc.version)}`);
      const schema = doc.schema as Array<{ namespace?: string; neurodata_types?: string[]; source?: string }>;
      const ns: NamespaceSpec = {
        name, version, doc: String(doc.doc), author: doc.author as string[], contact: doc.contact as string[],
        ...(doc.full_name ? { full_name: String(doc.full_name) } : {}),
        includes: schema.filter((s) => s.namespace).map((s) => ({ namespace: s.namespace!, ...(s.neurodata_types ? { neurodata_types: s.neurodata_types } : {}) })),
        sources: [],
      };
      for (const s of schema.filter((x) => x.source)) {
        const body = text(s.source!);
        if (!body) {
          errors.push(`${vGroup.path}: source ${s.source} is listed but not cached`);
          continue;
        }
        ns.sources.push({ name: s.source!, ...(JSON.parse(body) as object) });
      }
      namespaces.push(ns);
    }
  }
  return { namespaces, errors };
}

export interface NwbValidation {
  errors: string[];
  /** Objects and attributes checked. */
  checked: number;
  /** The namespaces validated against (name -> version). */
  namespaces: Record<string, string>;
}

/**
 * Validates the NWB file at `path`: against the spec cached in the file (the default: what a reader
 * without the extensions installed sees), or against the given namespaces.
 */
export async function validateNwb(path: string, namespaces?: readonly NamespaceSpec[]): Promise<NwbValidation> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const cached = readCachedSpec(f);
    const spec = namespaces ?? cached.namespaces;
    const v = new NwbValidator(f, new SpecRegistry(spec));
    v.validateTypedObjects();
    return { errors: [...cached.errors, ...v.errors], checked: v.checked, namespaces: Object.fromEntries(spec.map((n) => [n.name, n.version])) };
  } finally {
    f.close();
  }
}
