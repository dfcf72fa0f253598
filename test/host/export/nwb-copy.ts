// Test helper: copies an HDF5 file object by object with h5wasm (which cannot
// delete links), leaving out the listed paths and attributes (soft links stay soft links) — a way to make a
// deliberately broken NWB file. Object references are re-pointed at the copies.
import h5wasm from 'h5wasm/node';

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
type H5Object = H5Group | H5Dataset;
interface H5Attr { value: unknown; shape: number[] | null; dtype: unknown; metadata: { type: number } }

export interface Breakage {
  /** Paths of groups/datasets to leave out, e.g. "/general/fiber_photometry/fiber_photometry_table/location". */
  omit?: string[];
  /** "path@attribute" entries to leave out, e.g. "/processing/ophys/demodulated/data@unit". */
  omitAttributes?: string[];
  /** "path@attribute" -> new value (a string or number, written scalar). */
  setAttributes?: Record<string, string | number>;
}

const REFERENCE = 7;

export async function copyNwb(from: string, to: string, breakage: Breakage): Promise<void> {
  await h5wasm.ready;
  const src = new h5wasm.File(from, 'r');
  const dst = new h5wasm.File(to, 'w');
  const pending: Array<() => void> = [];
  const omit = new Set(breakage.omit ?? []);
  const omitAttr = new Set(breakage.omitAttributes ?? []);
  const newRef = (ref: unknown): unknown => {
    const target = src.dereference(ref as never) as unknown as H5Object | null;
    const copy = target ? dst.get(target.path) as unknown as H5Object | null : null;
    if (!copy) throw new Error(`copyNwb: reference to ${target?.path ?? 'nothing'} has no copy (omitted?)`);
    return copy.create_reference();
  };
  const copyAttributes = (from: H5Object, to: H5Object): void => {
    for (const name of Object.keys(from.attrs)) {
      const key = `${from.path === '/' ? '' : from.path}@${name}`;
      if (omitAttr.has(key)) continue;
      const set = breakage.setAttributes?.[key];
      if (set !== undefined) {
        to.create_attribute(name, set);
        continue;
      }
      const a = from.attrs[name] as unknown as H5Attr;
      if (a.metadata.type === REFERENCE) {
        pending.push(() => {
          const refs = Array.isArray(a.value) ? a.value : [a.value];
          to.create_attribute(name, refs.length === 1 && (a.shape ?? []).length === 0 ? newRef(refs[0]) as never : refs.map(newRef) as never, a.shape);
        });
      } else {
        to.create_attribute(name, a.value as never, a.shape, typeof a.dtype === 'string' && a.dtype !== 'S' ? a.dtype : null);
      }
    }
  };
  const copyGroup = (from: H5Group, to: H5Group): void => {
    copyAttributes(from, to);
    for (const k of from.keys()) {
      const target = from.get_link(`${from.path === '/' ? '' : from.path}/${k}`);
      if (target !== null) {
        if (!omit.has(`${from.path}/${k}`)) pending.push(() => { to.create_soft_link(target, k); });
        continue;
      }
      const child = from.get(k) as unknown as H5Object;
      if (omit.has(child.path)) continue;
      if (child instanceof h5wasm.Group) copyGroup(child, to.create_group(k));
      else if (child instanceof h5wasm.Dataset) {
        const meta = child.metadata as unknown as { type: number };
        const shape = child.shape ?? [];
        if (meta.type === REFERENCE) {
          pending.push(() => {
            const ds = to.create_dataset({ name: k, data: (child.value as unknown[]).map(newRef) as never });
            copyAttributes(child, ds);
          });
        } else {
          const dtype = typeof child.dtype === 'string' && child.dtype !== 'S' ? child.dtype : undefined;
          const ds = to.create_dataset({ name: k, data: child.value as never, shape, ...(dtype ? { dtype } : {}) });
          copyAttributes(child, ds);
        }
      }
    }
  };
  try {
    copyGroup(src as unknown as H5Group, dst as unknown as H5Group);
    for (const p of pending) p();
  } finally {
    src.close();
    dst.close();
  }
}

export type { H5File };
