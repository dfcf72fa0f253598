"""Outside baseline for test/bench/host.bench.ts: a lock-in written the ordinary numpy/scipy way.

Reads raw little-endian uint16 samples (interleaved: sample 0 of every detector, then sample 1, ...)
from stdin, mixes each detector with sin/cos references of every carrier, low-passes I and Q with a
4th-order Butterworth (scipy.signal.sosfilt, state carried between chunks), keeps every
fs/out-th sample and takes magnitude and phase. Prints one JSON line: the raw samples per second
of the processing (reading stdin excluded) and the median magnitude per channel (a sanity check
that both sides do the same job).

usage: python3 lockin_scipy.py RATE_HZ OUT_HZ CUTOFF_HZ DETECTORS CARRIER_HZ [CARRIER_HZ ...] < samples.u16
"""
import json
import sys
import time

import numpy as np
from scipy import signal


def main() -> None:
    rate_hz, out_hz, cutoff_hz = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    detectors = int(sys.argv[4])
    carriers_hz = [float(x) for x in sys.argv[5:]]
    raw = np.frombuffer(sys.stdin.buffer.read(), dtype="<u2").reshape(-1, detectors)
    step = int(round(rate_hz / out_hz))
    chunk = int(rate_hz) * 10  # 10 s per call: bounded memory, as a streaming reader would do
    t0 = time.perf_counter()
    sos = signal.butter(4, cutoff_hz, fs=rate_hz, output="sos")
    zi = np.zeros((len(carriers_hz), 2, detectors, sos.shape[0], 2))
    mags = []
    for start in range(0, raw.shape[0], chunk):
        x = raw[start:start + chunk].astype(np.float64)
        n = np.arange(start, start + x.shape[0])
        keep = (n % step) == 0
        mag = np.empty((int(keep.sum()), detectors, len(carriers_hz)))
        for k, f in enumerate(carriers_hz):
            phase = 2 * np.pi * ((f * n) % rate_hz) / rate_hz
            i, zi[k, 0] = signal.sosfilt(sos, x * np.sin(phase)[:, None], axis=0, zi=zi[k, 0])
            q, zi[k, 1] = signal.sosfilt(sos, x * np.cos(phase)[:, None], axis=0, zi=zi[k, 1])
            mag[:, :, k] = 2 * np.hypot(i[keep], q[keep])
            np.arctan2(q[keep], i[keep])  # the phase, as the host computes it
        mags.append(mag)
    elapsed = time.perf_counter() - t0
    mag = np.concatenate(mags)
    settled = mag[mag.shape[0] // 10:]
    print(json.dumps({
        "samplesPerS": raw.size / elapsed,
        "seconds": elapsed,
        "medianMagnitude": np.median(settled, axis=0).reshape(-1).tolist(),
        "numpy": np.__version__,
        "scipy": __import__("scipy").__version__,
    }))


if __name__ == "__main__":
    main()
