// /specifications: the namespaces a file uses, cached in the layout pynwb's
// `cache_spec=True` writes — one group per namespace, one subgroup per version,
// holding a scalar string dataset `namespace` (JSON {"namespaces": [...]}, the
// schema sources named without file extension) and one scalar string dataset
// per source (JSON of its type definitions); the root attribute `.specloc` is an
// object reference to /specifications.
import { NWB_CORE, HDMF_COMMON } from './spec-core.ts';
import { NDX_FIBER_PHOTOMETRY, NDX_OPHYS_DEVICES } from './spec-ndx.ts';
import type { NamespaceSpec } from './spec.ts';

/** Every namespace an exported file uses, dependencies first. */
export const NWB_NAMESPACES: readonly NamespaceSpec[] = [HDMF_COMMON, NWB_CORE, NDX_OPHYS_DEVICES, NDX_FIBER_PHOTOMETRY];

/** namespace -> version the file targets (written into the file's metadata too). */
export const TARGET_VERSIONS: Readonly<Record<string, string>> = Object.fromEntries(NWB_NAMESPACES.map((n) => [n.name, n.version]));

/** The JSON document cached as `namespace` for one namespace. */
export function namespaceJson(ns: NamespaceSpec): string {
  const schema: Array<Record<string, unknown>> = [
    ...ns.includes.map((i) => ({ ...i })),
    ...ns.sources.map((s) => ({ source: s.name })),
  ];
  const body: Record<string, unknown> = { name: ns.name, version: ns.version, doc: ns.doc, author: ns.author, contact: ns.contact, schema };
  if (ns.full_name) body.full_name = ns.full_name;
  return JSON.stringify({ namespaces: [body] });
}

/** The JSON document cached for one source of a namespace. */
export function sourceJson(ns: NamespaceSpec, sourceName: string): string {
  const s = ns.sources.find((x) => x.name === sourceName);
  if (!s) throw new Error(`namespace ${ns.name} has no source ${sourceName}`);
  const body: Record<string, unknown> = {};
  if (s.groups?.length) body.groups = s.groups;
  if (s.datasets?.length) body.datasets = s.datasets;
  return JSON.stringify(body);
}

/** The minimal h5wasm surface the cache writer needs. */
interface Writable {
  create_group(name: string): Writable;
  create_dataset(args: { name: string; data: string }): unknown;
  create_reference(): unknown;
  create_attribute(name: string, value: unknown, shape?: number[] | null, dtype?: string | null): void;
}

/** Writes /specifications and the root `.specloc` reference. */
export function writeSpecifications(root: Writable, namespaces: readonly NamespaceSpec[] = NWB_NAMESPACES): void {
  const specs = root.create_group('specifications');
  for (const ns of namespaces) {
    const version = specs.create_group(ns.name).create_group(ns.version);
    version.create_dataset({ name: 'namespace', data: namespaceJson(ns) });
    for (const s of ns.sources) version.create_dataset({ name: s.name, data: sourceJson(ns, s.name) });
  }
  root.create_attribute('.specloc', specs.create_reference(), []);
}
