// The NWB specification language, as data: the shapes of namespaces, groups,
// datasets, attributes and links, small builders for writing them down, and
// the list of namespaces the NWB export targets. The facts (type names, field
// names, dtypes, quantities, shapes, inheritance) follow the published schemas
// named in `TARGET_VERSIONS`; every doc string is fiberrig's own wording.
//
// The same data is (1) cached in each exported file under /specifications, in
// the layout pynwb's `cache_spec=True` uses, and (2) walked by the test-side
// validator (test/host/export/nwb-validate.ts).

/** An object reference to a typed group or dataset. */
export interface RefDtype {
  target_type: string;
  reftype: 'object' | 'region';
}

export interface CompoundField {
  name: string;
  dtype: string | RefDtype;
  doc: string;
}

export type SpecDtype = string | RefDtype | CompoundField[];
/** One allowed shape (null = any length) or several alternatives. */
export type SpecShape = Array<number | null> | Array<Array<number | null>>;
export type Quantity = number | '?' | '*' | '+';

export interface AttributeSpec {
  name: string;
  dtype: SpecDtype;
  doc: string;
  shape?: SpecShape;
  required?: boolean;
  value?: unknown;
  default_value?: unknown;
}

interface TypedSpec {
  /** NWB namespaces use neurodata_type_*; hdmf-common uses data_type_*. */
  neurodata_type_def?: string;
  neurodata_type_inc?: string;
  data_type_def?: string;
  data_type_inc?: string;
  name?: string;
  default_name?: string;
  doc: string;
  quantity?: Quantity;
  attributes?: AttributeSpec[];
}

export interface DatasetSpec extends TypedSpec {
  dtype?: SpecDtype;
  shape?: SpecShape;
  value?: unknown;
  default_value?: unknown;
}

export interface LinkSpec {
  name?: string;
  target_type: string;
  doc: string;
  quantity?: Quantity;
}

export interface GroupSpec extends TypedSpec {
  groups?: GroupSpec[];
  datasets?: DatasetSpec[];
  links?: LinkSpec[];
}

/** One schema source file (e.g. nwb.base): its top-level type definitions. */
export interface SpecSource {
  /** Source name without extension, as cached (e.g. "nwb.base"). */
  name: string;
  groups?: GroupSpec[];
  datasets?: DatasetSpec[];
}

export interface NamespaceInclude {
  namespace: string;
  neurodata_types?: string[];
}

export interface NamespaceSpec {
  name: string;
  version: string;
  doc: string;
  author: string[];
  contact: string[];
  full_name?: string;
  /** Included namespaces, in order; then the sources (in `sources`). */
  includes: NamespaceInclude[];
  sources: SpecSource[];
}

// ---------------------------------------------------------------- builders

export const ref = (target: string): RefDtype => ({ target_type: target, reftype: 'object' });

/** A required attribute. */
export function attr(name: string, dtype: SpecDtype, doc: string, extra: Partial<AttributeSpec> = {}): AttributeSpec {
  return { name, dtype, doc, ...extra };
}

/** An optional attribute. */
export function opt(name: string, dtype: SpecDtype, doc: string, extra: Partial<AttributeSpec> = {}): AttributeSpec {
  return { name, dtype, doc, required: false, ...extra };
}

/** The type this spec defines, in either key convention. */
export function typeDef(s: TypedSpec): string | undefined {
  return s.neurodata_type_def ?? s.data_type_def;
}

/** The type this spec includes (its parent, or the type of an inner member). */
export function typeInc(s: TypedSpec): string | undefined {
  return s.neurodata_type_inc ?? s.data_type_inc;
}

/** Whether a member with this quantity must be present. */
export function isRequired(q: Quantity | undefined): boolean {
  return q === undefined || q === '+' || (typeof q === 'number' && q > 0);
}

/** Whether a member may occur more than once (then it is matched by type, not name). */
export function isMany(q: Quantity | undefined): boolean {
  return q === '*' || q === '+' || (typeof q === 'number' && q > 1);
}
