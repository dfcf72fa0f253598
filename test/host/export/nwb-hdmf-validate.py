"""Independent check of a fiberrig NWB file with hdmf (Debian's python3-hdmf).

Reads the namespaces cached in the file's /specifications (nothing installed is
used: a fresh namespace catalog), and validates the file's root against them
with hdmf's validator. NWB specs key their types with neurodata_type_def/_inc
and typed objects carry a `neurodata_type` attribute, as pynwb does; the spec
classes below read them that way. Prints one JSON line:
{"namespaces": {name: version}, "errors": [...]}; exits 0 when the check ran.
"""
import json
import sys

import h5py
from hdmf.backends.hdf5 import HDF5IO
from hdmf.build import BuildManager, GroupBuilder, TypeMap
from hdmf.spec import DatasetSpec, GroupSpec, NamespaceCatalog, SpecNamespace, SpecReader
from hdmf.validate import ValidatorMap


class NwbGroupSpec(GroupSpec):
    @classmethod
    def type_key(cls):
        return "neurodata_type"

    @classmethod
    def dataset_spec_cls(cls):
        return NwbDatasetSpec


class NwbDatasetSpec(DatasetSpec):
    @classmethod
    def type_key(cls):
        return "neurodata_type"


class NwbNamespace(SpecNamespace):
    @classmethod
    def types_key(cls):
        return "neurodata_types"


def rename_keys(node):
    """neurodata_type_def/_inc -> data_type_def/_inc, the constructor names hdmf uses."""
    if isinstance(node, list):
        return [rename_keys(x) for x in node]
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            k = {"neurodata_type_def": "data_type_def", "neurodata_type_inc": "data_type_inc"}.get(k, k)
            out[k] = rename_keys(v)
        return out
    return node


class CachedReader(SpecReader):
    def __init__(self, name, docs):
        # hdmf remembers namespaces by reader source + file name: one source per namespace
        super().__init__(source=f"cached/{name}")
        self.docs = docs

    def read_spec(self, spec_path):
        return rename_keys(self.docs[spec_path])

    def read_namespace(self, ns_path):
        return self.docs[ns_path]["namespaces"]


def main(path):
    cached = {}
    with h5py.File(path, "r") as f:
        specloc = f[f.attrs[".specloc"]]
        for name in specloc:
            for version in specloc[name]:
                group = specloc[name][version]
                docs = {key: json.loads(group[key][()]) for key in group}
                deps = [s["namespace"] for s in docs["namespace"]["namespaces"][0]["schema"] if "namespace" in s]
                cached[name] = (version, docs, deps)
    catalog = NamespaceCatalog(NwbGroupSpec, NwbDatasetSpec, NwbNamespace)
    done = []
    while len(done) < len(cached):
        ready = [n for n, (_, _, deps) in cached.items() if n not in done and all(d in done for d in deps)]
        if not ready:
            raise SystemExit(f"cached namespaces have unresolved dependencies: {sorted(set(cached) - done)}")
        for name in ready:
            catalog.load_namespaces("namespace", reader=CachedReader(name, cached[name][1]))
            done.append(name)
    manager = BuildManager(TypeMap(catalog))
    # the most dependent namespace first: its map knows its own types and those it includes, so a
    # reference to a FiberPhotometryTable is checked as a DynamicTable subtype
    maps = [(name, ValidatorMap(catalog.get_namespace(name))) for name in reversed(done)]
    errors = []
    with HDF5IO(path, mode="r", manager=manager) as io:
        # every typed object, by the validator of a namespace that knows its type (an extension's map also
        # knows the types it includes, the core map does not know the extensions' types): that of the
        # nearest typed ancestor when it knows the type — so a shared type such as DynamicTableRegion is
        # checked by the map that also knows the table it references (an ElectrodesTable under an
        # ElectricalSeries, a FiberPhotometryTable under a FiberPhotometryResponseSeries) — else the most
        # dependent namespace that does
        stack = [(io.read_builder(), None)]
        while stack:
            b, outer = stack.pop()
            dt = b.attributes.get("neurodata_type")
            ns = b.attributes.get("namespace")
            inner = ns if dt is not None and ns in cached else outer
            if isinstance(b, GroupBuilder):
                stack.extend((c, inner) for c in b.groups.values())
                stack.extend((c, inner) for c in b.datasets.values())
            if dt is None:
                continue
            if ns not in cached or dt not in catalog.get_namespace(ns).get_registered_types():
                errors.append(f"{b.path}: type {dt!r} is not defined in cached namespace {ns!r}")
                continue
            knows = [(name, m) for name, m in maps if dt in catalog.get_namespace(name).get_registered_types()]
            validator = next((m for name, m in knows if name == outer), knows[0][1]).get_validator(dt)
            for e in validator.validate(b):
                if str(e) not in errors:
                    errors.append(str(e))
    print(json.dumps({"namespaces": {n: cached[n][0] for n in cached}, "errors": errors}))


if __name__ == "__main__":
    main(sys.argv[1])
