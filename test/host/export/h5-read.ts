// Typed access to an HDF5 file read back with h5wasm, for tests: each accessor
// asserts what it finds (a dataset, a group, an attribute) and names the path.
import assert from 'node:assert/strict';
import h5wasm from 'h5wasm/node';

export type H5File = InstanceType<typeof h5wasm.File>;
export type Dataset = InstanceType<typeof h5wasm.Dataset>;
export type Group = InstanceType<typeof h5wasm.Group>;

export interface H5Access {
  ds(path: string): Dataset;
  group(path: string): Group;
  attr(obj: Dataset | Group, name: string): unknown;
}

/** Accessors over the file `file()` returns (a function, so a suite can open the file in `before`). */
export function h5Access(file: () => H5File): H5Access {
  return {
    ds(path) {
      const d = file().get(path);
      assert.ok(d instanceof h5wasm.Dataset, `${path} is a dataset`);
      return d as Dataset;
    },
    group(path) {
      const g = file().get(path);
      assert.ok(g instanceof h5wasm.Group, `${path} is a group`);
      return g as Group;
    },
    attr(obj, name) {
      assert.ok(name in obj.attrs, `${obj.path} has attribute ${name}`);
      return obj.attrs[name]!.value;
    },
  };
}
