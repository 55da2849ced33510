#!/usr/bin/env python3
"""qep against scipy, side by side in one run on this machine.

Measures, alternating tools so that machine drift hits both alike:
  * H·psi, complex128, TFIM on the open 4x6 grid (24 qubits, h = 3.04): scipy CSR matvec
    (matrix built by ../shared/peers/common.build_numpy_csr, bit-identical to qiskit's) vs
    `qep bench` (median of R applications after a warm-up, same problem from
    hamiltonians/bench/tfim_4x6.yaml); also qep's effective bandwidth.
  * Ground state of the 4x5 grid (20 qubits), end to end: scipy = build the complex CSR +
    eigsh(k=1, which='SA', tol=0); qep = the whole `qep spectrum --k 1 --no-gap` process
    (parse, compile, Lanczos in real arithmetic) and `qep spectrum --k 1` (with the gap level).
    The energies must agree to 1e-9.

Needs numpy and scipy (the peers' venv, see ../shared/peers/README.md).
Usage:  python benches/peers/side_by_side.py [--qep target/release/qep] [--reps 5]
Prints one JSON line per measurement and a summary with the ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "..", "shared", "peers"))

import numpy as np  # noqa: E402
import scipy.sparse.linalg as sla  # noqa: E402

import common as C  # noqa: E402


def emit(rec):
    print(json.dumps(rec), flush=True)
    return rec


def qep_json(qep, *args):
    t0 = time.perf_counter()
    out = subprocess.run([qep, *args, "--json"], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return json.loads(out.stdout), wall


def matvec(qep, reps):
    n, (rows, cols) = 24, (4, 6)
    edges = C.grid_edges(rows, cols)
    M = C.build_numpy_csr(n, edges)
    psi = C.random_state(n, seed=7)
    y = np.empty_like(psi)
    from scipy.sparse._sparsetools import csr_matvec
    def sp():
        y[:] = 0
        csr_matvec(M.shape[0], M.shape[1], M.indptr, M.indices, M.data, psi, y)
    sp()  # warm-up (first touch)
    res = {"scipy": [], "qep": [], "qep_gbps": []}
    for _ in range(reps):
        t0 = time.perf_counter(); sp(); res["scipy"].append(time.perf_counter() - t0)
        v, _ = qep_json(qep, "bench", os.path.join(ROOT, "hamiltonians/bench/tfim_4x6.yaml"),
                        "--reps", "10")
        res["qep"].append(v["apply_seconds"]); res["qep_gbps"].append(v["effective_gbps"])
    del M
    s, q = statistics.median(res["scipy"]), statistics.median(res["qep"])
    return emit({"bench": "matvec", "n": n, "scipy_csr_s": s, "qep_s": q, "ratio": s / q,
                 "qep_effective_gbps": statistics.median(res["qep_gbps"]),
                 "scipy_times": res["scipy"], "qep_times": res["qep"]})


def ground(qep, reps):
    n, (rows, cols) = 20, (4, 5)
    edges = C.grid_edges(rows, cols)
    f = os.path.join(ROOT, "hamiltonians/bench/tfim_4x5.yaml")
    v0 = C.random_state(n, seed=7)
    ts, tq, tqg, es, eq = [], [], [], None, None
    for _ in range(reps):
        t0 = time.perf_counter()
        M = C.build_numpy_csr(n, edges)
        w = sla.eigsh(M, k=1, which="SA", tol=0, v0=v0, return_eigenvectors=False)
        ts.append(time.perf_counter() - t0)
        es = float(np.min(w.real))
        del M
        v, wall = qep_json(qep, "spectrum", f, "--k", "1", "--no-gap")
        tq.append(wall); eq = v["energies"][0]
        v, wall = qep_json(qep, "spectrum", f, "--k", "1")
        tqg.append(wall)
    s, q, qg = statistics.median(ts), statistics.median(tq), statistics.median(tqg)
    return emit({"bench": "ground", "n": n, "scipy_eigsh_complex_s": s, "qep_s": q,
                 "qep_with_gap_s": qg, "ratio": s / q, "ratio_with_gap": s / qg,
                 "E0_scipy": es, "E0_qep": eq, "agree": abs(es - eq) < 1e-9})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qep", default=os.path.join(ROOT, "target/release/qep"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", choices=["matvec", "ground"])
    a = ap.parse_args()
    if a.only in (None, "matvec"):
        matvec(a.qep, a.reps)
    if a.only in (None, "ground"):
        ground(a.qep, max(1, a.reps // 2))


if __name__ == "__main__":
    main()
