// Small writers of typed NWB objects over h5wasm, shared by the NWB export (nwb.ts): the typing
// attributes every object carries, TimeSeries groups and their data/time attributes, table columns.
import { randomUUID } from 'node:crypto';
import type h5wasmModule from 'h5wasm/node';

type H5File = InstanceType<typeof h5wasmModule['File']>;
type H5Group = ReturnType<H5File['create_group']>;
type H5Dataset = ReturnType<H5Group['create_dataset']>;
type H5Reference = ReturnType<H5Group['create_reference']>;

const NS_HDMF = 'hdmf-common';

export function typed(obj: H5Group | H5Dataset, neurodataType: string, namespace: string): void {
  obj.create_attribute('neurodata_type', neurodataType);
  obj.create_attribute('namespace', namespace);
  obj.create_attribute('object_id', randomUUID());
}

export function attrF64(obj: H5Group | H5Dataset, name: string, value: number): void {
  obj.create_attribute(name, value, null, '<d');
}

export function attrF32(obj: H5Group | H5Dataset, name: string, value: number): void {
  obj.create_attribute(name, value, null, '<f');
}

export function timeSeriesGroup(parent: H5Group, name: string, type: string, namespace: string, description: string, comments: string): H5Group {
  const g = parent.create_group(name);
  typed(g, type, namespace);
  g.create_attribute('description', description);
  g.create_attribute('comments', comments);
  return g;
}

export function dataAttributes(ds: H5Dataset, unit: string, conversion: number, continuity: 'continuous' | 'instantaneous' | 'step'): void {
  ds.create_attribute('unit', unit);
  attrF32(ds, 'conversion', conversion);
  attrF32(ds, 'offset', 0);
  attrF32(ds, 'resolution', -1);
  ds.create_attribute('continuity', continuity);
}

export function startingTime(g: H5Group, startS: number, rateHz: number): void {
  const st = g.create_dataset({ name: 'starting_time', data: startS, dtype: '<d' });
  attrF32(st, 'rate', rateHz);
  st.create_attribute('unit', 'seconds');
}

export function vectorData(table: H5Group, name: string, data: Parameters<H5Group['create_dataset']>[0]['data'], description: string, dtype?: string): H5Dataset {
  const ds = table.create_dataset({ name, data, ...(dtype ? { dtype } : {}) });
  typed(ds, 'VectorData', NS_HDMF);
  ds.create_attribute('description', description);
  return ds;
}

export function elementIds(table: H5Group, n: number): void {
  const ids = table.create_dataset({ name: 'id', data: Int32Array.from({ length: n }, (_, i) => i) });
  typed(ids, 'ElementIdentifiers', NS_HDMF);
}

export function tableRegion(series: H5Group, rows: number[], table: H5Reference, description: string, name = 'fiber_photometry_table_region'): void {
  const ds = series.create_dataset({ name, data: Int32Array.from(rows) });
  typed(ds, 'DynamicTableRegion', NS_HDMF);
  ds.create_attribute('description', description);
  ds.create_attribute('table', table, []);
}
