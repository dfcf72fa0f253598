// The growing datasets of the NWB export: a series written in batches along
// its first axis (chunked, gzip, resizable), and an irregular series (values
// with timestamps) made of two of them.
import type h5wasmModule from 'h5wasm/node';

type H5File = InstanceType<typeof h5wasmModule['File']>;
type H5Group = ReturnType<H5File['create_group']>;
type H5Dataset = ReturnType<H5Group['create_dataset']>;

export type Dtype = '<f' | '<d';

/**
 * A dataset that grows along its first axis, written in batches. Rows are
 * addressed by index: writing past the end fills the skipped rows with NaN.
 */
export class GrowingSeries {
  readonly ds: H5Dataset;
  private readonly batch: Float32Array | Float64Array;
  private readonly batchRows: number;
  /** First row of the batch in the dataset. */
  private batchStart = 0;
  private batchUsed = 0;

  constructor(group: H5Group, name: string, private readonly columns: number, dtype: Dtype, batchRows = 65536) {
    const twoD = columns > 1;
    this.batchRows = batchRows;
    this.batch = dtype === '<f' ? new Float32Array(batchRows * columns) : new Float64Array(batchRows * columns);
    const chunkRows = Math.max(256, Math.min(65536, Math.floor(262144 / (columns * (dtype === '<f' ? 4 : 8)))));
    this.ds = group.create_dataset({
      name, data: dtype === '<f' ? new Float32Array(0) : new Float64Array(0), dtype,
      shape: twoD ? [0, columns] : [0], maxshape: twoD ? [null, columns] : [null], chunks: twoD ? [chunkRows, columns] : [chunkRows],
      compression: 'gzip', compression_opts: 4,
    });
  }

  /** Next row index to be written. */
  get end(): number {
    return this.batchStart + this.batchUsed;
  }

  /** NaN rows up to (not including) `index`. */
  padTo(index: number): void {
    while (this.end < index) {
      const n = Math.min(index - this.end, this.batchRows - this.batchUsed);
      this.batch.fill(Number.NaN, this.batchUsed * this.columns, (this.batchUsed + n) * this.columns);
      this.batchUsed += n;
      if (this.batchUsed === this.batchRows) this.flush();
    }
  }

  /**
   * Writes `count` rows from `source` (interleaved with `stride` values per
   * row, this series' columns starting at `offset`) at row `index`.
   */
  put(index: number, count: number, source: ArrayLike<number>, stride: number, offset: number): void {
    if (index < this.end) {
      const skip = this.end - index; // already written (never expected: the timeline only moves forward)
      if (skip >= count) return;
      index += skip;
      count -= skip;
      offset += skip * stride;
    }
    this.padTo(index);
    let k = 0;
    while (k < count) {
      const n = Math.min(count - k, this.batchRows - this.batchUsed);
      const base = this.batchUsed * this.columns;
      for (let r = 0; r < n; r++) {
        const src = offset + (k + r) * stride;
        for (let c = 0; c < this.columns; c++) this.batch[base + r * this.columns + c] = source[src + c]!;
      }
      this.batchUsed += n;
      k += n;
      if (this.batchUsed === this.batchRows) this.flush();
    }
  }

  flush(): void {
    if (this.batchUsed === 0) return;
    const end = this.batchStart + this.batchUsed;
    this.ds.resize(this.columns > 1 ? [end, this.columns] : [end]);
    const data = this.batch.subarray(0, this.batchUsed * this.columns);
    this.ds.write_slice(this.columns > 1 ? [[this.batchStart, end], []] : [[this.batchStart, end]], data);
    this.batchStart = end;
    this.batchUsed = 0;
  }
}

/** Irregular series: values with timestamps (events). */
export class EventSeries {
  readonly data: GrowingSeries;
  readonly timestamps: GrowingSeries;
  private readonly one = new Float64Array(1);

  constructor(readonly group: H5Group, dtype: Dtype) {
    this.data = new GrowingSeries(group, 'data', 1, dtype, 4096);
    this.timestamps = new GrowingSeries(group, 'timestamps', 1, '<d', 4096);
  }

  add(timeS: number, value: number): void {
    this.one[0] = value;
    this.data.put(this.data.end, 1, this.one, 1, 0);
    this.one[0] = timeS;
    this.timestamps.put(this.timestamps.end, 1, this.one, 1, 0);
  }

  finish(): void {
    this.data.flush();
    this.timestamps.flush();
  }
}
