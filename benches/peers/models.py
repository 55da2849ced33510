#!/usr/bin/env python3
"""Benchmark model families for H·psi and EP gradients, written as qep YAML models and built as
the same operator in scipy CSR (from the same term list, independently of qep).

Families (qubit i = bit i of the basis index, Z|0> = +|0>, as in docs/DESIGN.md):
  tfim    TFIM on an open rows x cols grid, J = 1, h = 3.04 (the peers' problem; the models
          are hamiltonians/bench/tfim_RxC.yaml, reproduced here for the CSR).
  sensor  The quantum-EP phase sensor of Wanjura & Marquardt (arXiv:2406.06482, code
          github.com/ClaraWanjura/QuantumEP, qep.py): a periodic cluster-Ising chain of
          N - 2 qubits, H_sys = g_ZXZ sum Z_j X_{j+1} Z_{j+2} - g_ZZ sum Z_j Z_{j+1} - g_X sum X_j,
          coupled to 2 sensor qubits A = N - 2, B = N - 1 through the products of the system
          operators {X0, Z0, X1, Z1} with the sensor operators {X_A, Z_A, X_B, Z_B} (16
          trainable couplings X.X, X.Z, Z.X, Z.Z) plus the sensor fields X_A, Z_A, X_B, Z_B
          (4 trainable): 20 parameters. The published code also offers Y operators (its default
          couples {X,Y,Z}0,1 to {X,Y,Z}A,B and adds every sensor pair term); this family keeps
          its X/Z variant (the one of its `xz` runs), which is real. The point (g_ZXZ, g_ZZ, g_X)
          is drawn from the published sampler (uniform on the triangle g_ZXZ + g_ZZ + g_X = 4)
          and the parameters from N(0, 1) as its initialisation does, both from a fixed seed.
          Outputs: the two sensor qubits.
  randnet A random EP network: N qubits, N distinct random edges (i, j), each carrying trainable
          X_i X_j, Z_i Z_j and X_i Z_j couplings (uniform in [-0.5, 0.5]), a fixed field -X_i on
          every qubit; inputs 0, 1 (u Z), output N - 1.

Usage:  python benches/peers/models.py [--sizes 12 16 20 24]   # (re)writes the YAML files
"""

import argparse
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH = os.path.join(ROOT, "hamiltonians", "bench")

GRIDS = {12: (3, 4), 16: (4, 4), 18: (3, 6), 20: (4, 5), 24: (4, 6)}
SEED = {"sensor": 2406, "randnet": 21}


def label(ops):
    """'X0 Z3' from [('X', 0), ('Z', 3)]."""
    return " ".join(f"{p}{q}" for p, q in ops)


def tfim(n):
    rows, cols = GRIDS[n]
    terms = []
    for r in range(rows):
        for c in range(cols):
            q = r * cols + c
            if c + 1 < cols:
                terms.append(([("Z", q), ("Z", q + 1)], -1.0))
            if r + 1 < rows:
                terms.append(([("Z", q), ("Z", q + cols)], -1.0))
    terms += [([("X", q)], -3.04) for q in range(n)]
    return {"file": f"tfim_{rows}x{cols}.yaml", "terms": terms, "params": [],
            "inputs": [], "outputs": []}


def sensor(n):
    rng = np.random.default_rng(SEED["sensor"] + n)
    ns, a, b = n - 2, n - 2, n - 1
    # The published sampler: uniform on the triangle g_ZXZ + g_ZZ + g_X = 4.
    gx, gzz = (float(v) for v in rng.uniform(0, 4, size=2))
    if 4 - gx - gzz < 0:
        gx, gzz = 4 - gzz, 4 - gx
    gzxz = 4 - gx - gzz
    terms = []
    for j in range(ns):
        k, l = (j + 1) % ns, (j + 2) % ns
        terms.append(([("Z", j), ("X", k), ("Z", l)], gzxz))
        terms.append(([("Z", j), ("Z", k)], -gzz))
        terms.append(([("X", j)], -gx))
    sys_ops = [("X", 0), ("Z", 0), ("X", 1), ("Z", 1)]
    sens_ops = [("X", a), ("Z", a), ("X", b), ("Z", b)]
    params = [([s, t], float(v)) for (s, t), v in
              zip([(s, t) for s in sys_ops for t in sens_ops], rng.standard_normal(16))]
    params += [([t], float(v)) for t, v in zip(sens_ops, rng.standard_normal(4))]
    return {"file": f"sensor_{n}.yaml", "terms": terms, "params": params,
            "inputs": [], "outputs": [a, b],
            "comment": f"g_ZXZ = {gzxz:.6f}, g_ZZ = {gzz:.6f}, g_X = {gx:.6f}"}


def randnet(n):
    rng = np.random.default_rng(SEED["randnet"] + n)
    edges = set()
    while len(edges) < n:
        i, j = rng.choice(n, size=2, replace=False)
        edges.add((int(min(i, j)), int(max(i, j))))
    params = []
    for i, j in sorted(edges):
        params.append(([("X", i), ("X", j)], float(rng.uniform(-0.5, 0.5))))
        params.append(([("Z", i), ("Z", j)], float(rng.uniform(-0.5, 0.5))))
        params.append(([("X", i), ("Z", j)], float(rng.uniform(-0.5, 0.5))))
    terms = [([("X", q)], -1.0) for q in range(n)]
    return {"file": f"randnet_{n}.yaml", "terms": terms, "params": params,
            "inputs": [0, 1], "outputs": [n - 1]}


FAMILIES = {"tfim": tfim, "sensor": sensor, "randnet": randnet}


def tfim_ep(n):
    """The TFIM grid as an EP network for gradients: the same H, its Z.Z couplings trainable
    (value -1), the fields fixed, input qubit 0 (its field u Z_0 breaks the spin-flip symmetry
    that would make every gradient vanish), output the last qubit."""
    m = tfim(n)
    rows, cols = GRIDS[n]
    return {"file": f"tfim_ep_{rows}x{cols}.yaml",
            "terms": [t for t in m["terms"] if len(t[0]) == 1],
            "params": [t for t in m["terms"] if len(t[0]) == 2],
            "inputs": [0], "outputs": [n - 1]}


# EP gradients: the model per family (the TFIM with trainable couplings), and one example:
# the input fields u and targets d that `qep grad --inputs --targets` and the scipy script use.
EP_FAMILIES = {"tfim": tfim_ep, "sensor": sensor, "randnet": randnet}


def ep_example(m):
    """Inputs (0.7, -0.4, ...) on the model's inputs; targets +1, -1, ... on its outputs."""
    u = [0.7, -0.4][: len(m["inputs"])]
    d = [1.0 if i % 2 == 0 else -1.0 for i in range(len(m["outputs"]))]
    return u, d


def write_yaml(family, n, m):
    path = os.path.join(BENCH, m["file"])
    if family == "tfim":
        return path  # the lattice form already in the repository
    lines = [f"# {family} benchmark model, {n} qubits: written by benches/peers/models.py",
             "# (see its docstring for the family; regenerate rather than edit)."]
    if "comment" in m:
        lines.append(f"# {m['comment']}")
    lines += [f"name: {family}_{n}", f"qubits: {n}"]
    if m["inputs"]:
        lines.append(f"inputs: {m['inputs']}")
    if m["outputs"]:
        lines.append(f"outputs: {m['outputs']}")
    lines.append("terms:")
    lines += [f'  - {{pauli: "{label(ops)}", coeff: {c!r}}}' for ops, c in m["terms"]]
    if m["params"]:
        lines.append("params:")
        lines += [f'  - {{pauli: "{label(ops)}", value: {v!r}}}' for ops, v in m["params"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def masks(ops):
    x = z = 0
    for p, q in ops:
        if p in "XY":
            x |= 1 << q
        if p in "ZY":
            z |= 1 << q
    return x, z


def csr(n, m):
    """The model's H (fixed terms + parameters at their values) as a complex128 CSR matrix,
    row = output index: H[k ^ x, k] = c i^{n_Y} (-1)^{|k & z|} for each term, grouped by x, one
    stored entry per row and X-mask (int32 indices; unsorted columns are fine for a matvec)."""
    import scipy.sparse as sp
    dim = 1 << n
    groups = {}
    for ops, c in m["terms"] + m["params"]:
        x, z = masks(ops)
        ny = sum(1 for p, _ in ops if p == "Y")
        groups.setdefault(x, []).append((z, c * 1j ** ny))
    xs = sorted(groups)
    rows = np.arange(dim, dtype=np.int64)
    data = np.empty((dim, len(xs)), dtype=np.complex128)
    cols = np.empty((dim, len(xs)), dtype=np.int32)
    for g, x in enumerate(xs):
        src = rows ^ x  # the column k of row r = k ^ x
        v = np.zeros(dim, dtype=np.complex128)
        for z, e in groups[x]:
            sign = 1 - 2 * (np.bitwise_count(src & z) & 1).astype(np.float64)
            v += e * sign
        data[:, g] = v
        cols[:, g] = src
        del src, v
    indptr = np.arange(0, dim * len(xs) + 1, len(xs), dtype=np.int64)
    return sp.csr_matrix((data.reshape(-1), cols.reshape(-1), indptr), shape=(dim, dim))


def csr_bytes(n, m):
    """Bytes of the CSR matrix `csr` would build (complex128 + int32 per entry)."""
    xs = {masks(ops)[0] for ops, _ in m["terms"] + m["params"]}
    return (1 << n) * len(xs) * 20


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 20, 24])
    a = ap.parse_args()
    for fam, make in FAMILIES.items():
        for n in a.sizes:
            print(write_yaml(fam, n, make(n)))
    for n in a.sizes:
        print(write_yaml("tfim_ep", n, tfim_ep(n)))


if __name__ == "__main__":
    main()
