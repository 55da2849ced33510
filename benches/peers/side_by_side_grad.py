#!/usr/bin/env python3
"""One EP gradient, qep against a scipy eigsh script, side by side in one run, on three families.

Families (benches/peers/models.py, EP_FAMILIES): the open-grid TFIM (J = 1, h = 3.04) with its
Z.Z couplings trainable and the last qubit as output; the quantum-EP phase sensor of Wanjura &
Marquardt (cluster-Ising chain + 2 sensor qubits, 20 trainable X/Z couplings, outputs the
sensors); a random EP network (N random edges with XX, ZZ and XZ couplings, inputs 0 and 1,
output N - 1). One example per model (models.ep_example). At 12, 16, 20 and 24 qubits (scipy
only where its matrices fit and the time allows: --scipy-max).

Per family and size, in rounds that alternate the tools so that machine drift hits both alike
(--rounds below 20 qubits, one fewer at 20, one at 24):
  * scipy (in process, 1 thread): the symmetric-nudging EP gradient as the published quantum-EP
    code computes it, g_k = (<P_k>_{+b} - <P_k>_{-b}) / 2b with the three ground states of
    H(0), H(+b), H(-b) = H(0) +- b C from `eigsh(k=1, which='SA')` (tol = 0, a fixed random
    v0) on the real float64 CSR matrix (the families are real), C = 1/2 sum (Z_i - d_i)^2
    diagonal. Timed: the three eigsh and the expectations (`scipy_s`); building the CSR from
    the term list is timed apart (`scipy_build_s`) and not in the ratio.
  * qep: the whole `qep grad MODEL --inputs --targets --no-exact --json` process (parse,
    compile, three Lanczos solves in real arithmetic, expectations) and `qep grad` with the
    exact oracle (a deflated solve checking the free level is not degenerate, then one
    MINRES solve); matvecs as the JSON reports them; and
    `qep bench MODEL --real` (one H.psi, median) for the H.psi share of a gradient.
The gradients are checked against each other (max |difference|, printed), the oracle against
the EP estimate (relative error O(b^2)). `uptime` load is printed at the start and the end;
CPU seconds (user + system; of the child process for qep, of this process for scipy) are
recorded beside the wall times, for runs on a machine other work shares.

Needs numpy and scipy (/work/pyenv).
Usage:  python benches/peers/side_by_side_grad.py [--qep target/release/qep] [--rounds 3]
        [--sizes 12 16 20 24] [--families tfim sensor randnet] [--scipy-max 20] [--out FILE]
Prints one JSON line per measurement, then a Markdown table.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

# scipy on one thread, BLAS included (the CSR matvec is serial anyway).
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as sla  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import models  # noqa: E402

BETA = 0.01
OUT = None


def emit(rec):
    line = json.dumps(rec)
    print(line, flush=True)
    if OUT:
        with open(OUT, "a") as f:
            f.write(line + "\n")
    return rec


def load():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def model_path(fam, n, m):
    return os.path.join(models.BENCH, m["file"])


def qep_args(m):
    u, d = models.ep_example(m)
    args = []
    if u:
        args.append("--inputs=" + ",".join(repr(x) for x in u))
    args.append("--targets=" + ",".join(repr(x) for x in d))
    return args


def qep_grad(qep, path, m, exact):
    cmd = [qep, "grad", path, *qep_args(m), "--beta", repr(BETA), "--json"]
    if not exact:
        cmd.append("--no-exact")
    t0, c0 = time.perf_counter(), child_cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return json.loads(out.stdout), wall, child_cpu() - c0


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def qep_bench(qep, path, reps):
    out = subprocess.run([qep, "bench", path, "--reps", str(reps), "--real", "--json"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["apply_seconds"]


def pauli_expect(psi, n, ops):
    """<psi|P|psi> for a real state and a Pauli string without Y (the families have none)."""
    x, z = models.masks(ops)
    b = np.arange(1 << n, dtype=np.int64)
    sign = 1 - 2 * (np.bitwise_count(b & z) & 1).astype(np.float64)
    return float(np.dot(psi[b ^ x], sign * psi))


def scipy_build(n, m):
    t0 = time.perf_counter()
    H = models.csr(n, m)
    if np.all(H.data.imag == 0):
        H = sp.csr_matrix((H.data.real.copy(), H.indices, H.indptr), shape=H.shape)
    # C = 1/2 sum_i (Z_i - d_i)^2 on the outputs, diagonal; inputs add u_i Z_i to H(0).
    u, d = models.ep_example(m)
    b = np.arange(1 << n, dtype=np.int64)
    c = np.zeros(1 << n)
    for q, di in zip(m["outputs"], d):
        zq = 1 - 2 * ((b >> q) & 1).astype(np.float64)
        c += 0.5 * (zq - di) ** 2
    field = np.zeros(1 << n)
    for q, ui in zip(m["inputs"], u):
        field += ui * (1 - 2 * ((b >> q) & 1).astype(np.float64))
    H = (H + sp.diags(field)).tocsr()
    return H, sp.diags(c).tocsr(), time.perf_counter() - t0


def scipy_grad(n, m, H, C):
    v0 = np.random.default_rng(7).standard_normal(1 << n)
    t0, c0 = time.perf_counter(), time.process_time()
    states = []
    for s in (BETA, -BETA):
        _, v = sla.eigsh(H + s * C, k=1, which="SA", v0=v0)
        states.append(v[:, 0])
    # The free state too, as the published code does (its cost and prediction).
    sla.eigsh(H, k=1, which="SA", v0=v0)
    g = [(pauli_expect(states[0], n, ops) - pauli_expect(states[1], n, ops)) / (2 * BETA)
         for ops, _ in m["params"]]
    return g, time.perf_counter() - t0, time.process_time() - c0


def measure(qep, fam, n, rounds, scipy_max):
    m = models.EP_FAMILIES[fam](n)
    path = model_path(fam, n, m)
    with_scipy = n <= scipy_max
    H = C = None
    build = None
    if with_scipy:
        H, C, build = scipy_build(n, m)
    res = {"scipy": [], "qep": [], "qep_exact": []}
    cpu = {"scipy": [], "qep": [], "qep_exact": []}
    g_s = g_q = None
    rec_q = rec_e = None
    for _ in range(rounds):
        if with_scipy:
            g_s, t, c = scipy_grad(n, m, H, C)
            res["scipy"].append(t)
            cpu["scipy"].append(c)
        rec_q, t, c = qep_grad(qep, path, m, exact=False)
        res["qep"].append(t)
        cpu["qep"].append(c)
        rec_e, t, c = qep_grad(qep, path, m, exact=True)
        res["qep_exact"].append(t)
        cpu["qep_exact"].append(c)
    del H, C
    g_q = rec_q["ep"]
    apply_s = qep_bench(qep, path, 10 if n < 24 else 5)
    med = {k: statistics.median(v) for k, v in res.items() if v}
    mcpu = {k: statistics.median(v) for k, v in cpu.items() if v}
    rec = {"bench": "ep_gradient", "family": fam, "n": n, "params": len(m["params"]),
           "qep_s": med["qep"], "qep_exact_s": med["qep_exact"],
           "exact_over_no_exact": med["qep_exact"] / med["qep"],
           "matvecs": rec_q["matvecs"], "oracle_iterations": rec_e["oracle"]["iterations"],
           # Every operator application of the oracle's MINRES (steps + explicit residuals).
           "oracle_matvecs": rec_e["oracle"].get("matvecs", rec_e["oracle"]["iterations"]),
           "oracle_gap_check": rec_e["oracle"].get("gap_check_matvecs", 0),
           "hpsi_s": apply_s, "hpsi_share": rec_q["matvecs"] * apply_s / med["qep"],
           "qep_cpu_s": mcpu["qep"], "qep_exact_cpu_s": mcpu["qep_exact"],
           "oracle_rel_err": rec_e["relative_error"],
           # The free gap and how far it may be off (its level above converges in energy).
           "gap": rec_q.get("gap"), "gap_error": rec_q.get("gap_error"),
           "times": res, "cpu": cpu}
    if with_scipy:
        rec.update({"scipy_s": med["scipy"], "scipy_build_s": build,
                    "scipy_cpu_s": mcpu["scipy"],
                    "ratio": med["scipy"] / med["qep"],
                    "max_abs_diff": max(abs(a - b) for a, b in zip(g_s, g_q))})
    return emit(rec)


def table(recs, start, end):
    lines = [f"load at start: {start}", f"load at end: {end}", "",
             "| family | qubits | scipy 3 × eigsh (1 thread) | qep grad --no-exact | ratio "
             "| qep grad (oracle) | oracle / no-exact | CPU s: scipy / qep / qep oracle "
             "| H·ψ per gradient (oracle: + gap check + MINRES products) | H·ψ share | max diff |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in recs:
        sc = f"{r['scipy_s']:.3g} s" if "scipy_s" in r else "—"
        ra = f"**{r['ratio']:.1f}×**" if "ratio" in r else "—"
        md = f"{r['max_abs_diff']:.1e}" if "max_abs_diff" in r else "—"
        lines.append(
            f"| {r['family']} | {r['n']} | {sc} | {r['qep_s']:.3g} s | {ra} "
            f"| {r['qep_exact_s']:.3g} s | {r['exact_over_no_exact']:.2f} "
            f"| {r.get('scipy_cpu_s', float('nan')):.3g} / {r['qep_cpu_s']:.3g} / "
            f"{r['qep_exact_cpu_s']:.3g} "
            f"| {r['matvecs']} (+{r['oracle_gap_check']} + {r['oracle_matvecs']}) "
            f"| {100 * r['hpsi_share']:.0f} % | {md} |")
    return "\n".join(lines)


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qep", default=os.path.join(ROOT, "target/release/qep"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 20, 24])
    ap.add_argument("--families", nargs="+", default=list(models.EP_FAMILIES))
    ap.add_argument("--scipy-max", type=int, default=20)
    ap.add_argument("--out")
    a = ap.parse_args()
    OUT = a.out
    start = load()
    emit({"uptime": start})
    recs = []
    for n in a.sizes:
        for fam in a.families:
            # Fewer rounds where one takes minutes.
            rounds = a.rounds if n < 20 else max(1, a.rounds - 1) if n == 20 else 1
            recs.append(measure(a.qep, fam, n, rounds, a.scipy_max))
    end = load()
    emit({"uptime": end})
    print(table(recs, start, end))


if __name__ == "__main__":
    main()
