#!/usr/bin/env python3
"""One H·psi, qep against scipy CSR, side by side in one run, on three model families.

Families (benches/peers/models.py): the open-grid TFIM (J = 1, h = 3.04), the quantum-EP phase
sensor (periodic cluster-Ising chain of N - 2 qubits coupled to 2 sensor qubits, 20 trainable
X/Z couplings) and a random EP network (N random edges with XX, ZZ and XZ couplings), at 12,
16, 20 and 24 qubits.

Per family and size, in rounds that alternate the tools so that machine drift hits both alike:
  * scipy: the model's complex128 CSR matrix (built in numpy from the same term list, one
    entry per row and X-mask, int32 indices), y = 0 then sparsetools' csr_matvec(psi, y) on
    one thread (what `M @ psi` runs, without allocating y), median of R repetitions;
  * qep: `qep --threads T bench MODEL --reps R --json` (median of R applications after two
    warm-ups, complex128; T = 1 and 2), `--precision single` (complex64, T = 2), and `--real`
    (float64, T = 2, with `--dot`: also the fused `apply_dot` against H·psi then a separate
    inner product) and `--real` on T = 1 (the 1 vs 2 thread crossover) where H is real.
Ratios use the median over rounds of each tool's median. At 12 qubits the operators are
checked equal: `qep export --format mtx` against the CSR (max |difference|).
A STREAM-like copy of 2^24 complex128 (numpy, 1 thread and 2 threads on halves) gives the
bandwidth the effective GB/s of qep is compared with (bytes = read psi, diagonal, write out).
Matrices that would not fit in the available memory are skipped (said in the output).

Needs numpy and scipy (/work/pyenv).
Usage:  python benches/peers/side_by_side_matvec.py [--qep target/release/qep] [--rounds 3]
        [--sizes 12 16 20 24] [--families tfim sensor randnet] [--out FILE]
Prints one JSON line per measurement, then a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.io
from scipy.sparse._sparsetools import csr_matvec

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import models  # noqa: E402

REPS = {12: 200, 16: 50, 18: 20, 20: 10, 24: 5}
OUT = None


def emit(rec):
    line = json.dumps(rec)
    print(line, flush=True)
    if OUT:
        with open(OUT, "a") as f:
            f.write(line + "\n")
    return rec


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def stream_copy(reps=10):
    n = 1 << 24
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    c = np.empty_like(a)
    res = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        def two():
            m = n // 2
            fs = [pool.submit(np.copyto, c[:m], a[:m]), pool.submit(np.copyto, c[m:], a[m:])]
            [f.result() for f in fs]
        for name, fn in [("1", lambda: np.copyto(c, a)), ("2", two)]:
            fn()
            ts = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
            res[name] = {"median_gbps": 2 * a.nbytes / statistics.median(ts) / 1e9,
                         "best_gbps": 2 * a.nbytes / min(ts) / 1e9}
    return emit({"bench": "stream_copy", "elements": n, "dtype": "complex128",
                 "threads_1": res["1"], "threads_2": res["2"]})


def qep_bench(qep, path, threads, reps, real=False, single=False, dot=False):
    args = [qep, "--threads", str(threads), "bench", path, "--reps", str(reps), "--json"]
    if real:
        args.append("--real")
    if dot:
        args.append("--dot")
    if single:
        args += ["--precision", "single"]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def check_equal(qep, path, M):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "h.mtx")
        subprocess.run([qep, "export", path, "--format", "mtx", "-o", f], check=True,
                       capture_output=True)
        Q = scipy.io.mmread(f).tocsr()
    return float(abs(Q - M).max())


def measure(qep, fam, n, rounds):
    m = models.FAMILIES[fam](n)
    path = models.write_yaml(fam, n, m)
    reps = REPS.get(n, 5)
    need = models.csr_bytes(n, m)
    rec = {"bench": "matvec", "family": fam, "n": n, "model": os.path.relpath(path, ROOT),
           "csr_bytes": need}
    M = None
    if need * 1.2 + (1 << 30) < mem_available():
        t0 = time.perf_counter()
        M = models.csr(n, m)
        rec["csr_build_s"] = time.perf_counter() - t0
        rec["nnz_per_row"] = M.nnz >> n
        if n <= 12:
            rec["max_abs_diff_vs_qep_export"] = check_equal(qep, path, M)
    else:
        rec["scipy_skipped"] = f"CSR needs {need / 1e9:.1f} GB, {mem_available() / 1e9:.1f} GB available"
    rng = np.random.default_rng(7)
    psi = rng.standard_normal(1 << n) + 1j * rng.standard_normal(1 << n)
    psi /= np.linalg.norm(psi)
    y = np.empty_like(psi)

    def sp():
        y.fill(0)
        csr_matvec(M.shape[0], M.shape[1], M.indptr, M.indices, M.data, psi, y)

    real = None
    runs = {"scipy": [], "qep1": [], "qep2": [], "qep2_single": [], "qep2_real": [],
            "qep1_real": [], "qep2_real_dot": [], "qep2_real_then_dot": []}
    # CPU seconds per application (user + system): scipy's from this process's clock over
    # its repetitions, qep's as `qep bench` measures it over its timed ones (all threads).
    cpus = {k: [] for k in runs}
    gbps = {"qep1": [], "qep2": [], "qep2_single": [], "qep2_real": []}
    if M is not None:
        sp()
        sp()
    for _ in range(rounds):
        if M is not None:
            ts = []
            c0 = time.process_time()
            for _ in range(reps):
                t0 = time.perf_counter()
                sp()
                ts.append(time.perf_counter() - t0)
            cpus["scipy"].append((time.process_time() - c0) / reps)
            runs["scipy"].append(statistics.median(ts))
        for key, t in (("qep1", 1), ("qep2", 2)):
            v = qep_bench(qep, path, t, reps)
            runs[key].append(v["apply_seconds"])
            if v.get("apply_cpu_seconds") is not None:
                cpus[key].append(v["apply_cpu_seconds"])
            gbps[key].append(v["effective_gbps"])
            rec["groups"], rec["passes"] = v["groups"], v["passes"]
        v = qep_bench(qep, path, 2, reps, single=True)
        runs["qep2_single"].append(v["apply_seconds"])
        if v.get("apply_cpu_seconds") is not None:
            cpus["qep2_single"].append(v["apply_cpu_seconds"])
        gbps["qep2_single"].append(v["effective_gbps"])
        if real is not False:
            try:
                v = qep_bench(qep, path, 2, reps, real=True, dot=True)
                real = True
                runs["qep2_real"].append(v["apply_seconds"])
                if v.get("apply_cpu_seconds") is not None:
                    cpus["qep2_real"].append(v["apply_cpu_seconds"])
                gbps["qep2_real"].append(v["effective_gbps"])
                for key, k in (("qep2_real_dot", "apply_dot"),
                               ("qep2_real_then_dot", "apply_then_dot")):
                    runs[key].append(v[k + "_seconds"])
                    if v.get(k + "_cpu_seconds") is not None:
                        cpus[key].append(v[k + "_cpu_seconds"])
                v = qep_bench(qep, path, 1, reps, real=True)
                runs["qep1_real"].append(v["apply_seconds"])
                if v.get("apply_cpu_seconds") is not None:
                    cpus["qep1_real"].append(v["apply_cpu_seconds"])
            except subprocess.CalledProcessError:
                real = False
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    rec.update({f"{k}_s": v for k, v in med.items()})
    rec.update({f"{k}_gbps": statistics.median(v) for k, v in gbps.items() if v})
    rec.update({f"{k}_cpu_s": statistics.median(v) for k, v in cpus.items() if v})
    rec["runs"] = runs
    if "scipy" in med:
        rec["ratio_1v1"] = med["scipy"] / med["qep1"]
        rec["ratio_2v1"] = med["scipy"] / med["qep2"]
    del M
    return emit(rec)


def table(stream, recs):
    print()
    print(f"STREAM copy (2^24 complex128): {stream['threads_1']['median_gbps']:.1f} GB/s on 1 "
          f"thread, {stream['threads_2']['median_gbps']:.1f} GB/s on 2 (best "
          f"{stream['threads_2']['best_gbps']:.1f}).")
    print()
    print("Wall times, medians; CPU (user + system, all threads) per application in brackets.")
    print()
    print("| family | qubits | groups | scipy CSR (1 thr) | qep 1 thr | qep 2 thr | ratio 1v1 | "
          "ratio 2v1 | ratio CPU 2v1 | qep 2 thr complex64 | qep 2 thr real |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    f = lambda s: f"{s * 1e3:.3g} ms"  # noqa: E731

    def fc(r, k):
        w = f(r[k + "_s"]) if k + "_s" in r else "—"
        return w + (f" ({f(r[k + '_cpu_s'])})" if k + "_cpu_s" in r else "")

    for r in recs:
        r1 = f"**{r['ratio_1v1']:.1f}×**" if "ratio_1v1" in r else "—"
        r2 = f"**{r['ratio_2v1']:.1f}×**" if "ratio_2v1" in r else "—"
        rc = (f"{r['scipy_cpu_s'] / r['qep2_cpu_s']:.1f}×"
              if "scipy_cpu_s" in r and "qep2_cpu_s" in r else "—")
        print(f"| {r['family']} | {r['n']} | {r.get('groups', '')} | {fc(r, 'scipy')} | "
              f"{fc(r, 'qep1')} | {fc(r, 'qep2')} | {r1} | {r2} | {rc} | {fc(r, 'qep2_single')} | "
              f"{fc(r, 'qep2_real')} |")
    print()
    print("Real arithmetic: 1 against 2 threads, and a Lanczos step's product with its inner "
          "product (`qep bench --real --dot`, 2 threads): fused `apply_dot` against H·psi "
          "then a separate dot.")
    print()
    print("| family | qubits | qep real 1 thr | qep real 2 thr | apply_dot (fused) | "
          "H·psi then dot |")
    print("|---|---|---|---|---|---|")
    for r in recs:
        if "qep2_real_s" in r:
            print(f"| {r['family']} | {r['n']} | {fc(r, 'qep1_real')} | {fc(r, 'qep2_real')} | "
                  f"{fc(r, 'qep2_real_dot')} | {fc(r, 'qep2_real_then_dot')} |")


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qep", default=os.path.join(ROOT, "target/release/qep"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 20, 24])
    ap.add_argument("--families", nargs="+", default=list(models.FAMILIES))
    ap.add_argument("--out")
    a = ap.parse_args()
    OUT = a.out
    emit({"bench": "machine", "uptime": subprocess.run(["uptime"], capture_output=True,
                                                       text=True).stdout.strip(),
          "numpy": np.__version__, "scipy": scipy.__version__})
    stream = stream_copy()
    recs = [measure(a.qep, fam, n, a.rounds) for n in a.sizes for fam in a.families]
    emit({"bench": "machine_end", "uptime": subprocess.run(["uptime"], capture_output=True,
                                                           text=True).stdout.strip()})
    table(stream, recs)


if __name__ == "__main__":
    main()
