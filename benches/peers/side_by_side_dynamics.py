#!/usr/bin/env python3
"""qep against scipy and QuTiP on time evolution, side by side in one run (issues 6 and 7).

Alternates the tools on the same problems as ../shared/peers/bench_{evolve,adiabatic,lindblad}.py:
  * evolve:    e^{-iHt}|+...+>, TFIM 4x5 grid (20 qubits, h = 3.04), t = 1: scipy
               expm_multiply vs `qep evolve --method krylov`; <Z0 Z1> must agree to 1e-8.
  * adiabatic: linear anneal (1-s)(-sum X) + s H_TFIM(h = 0.5), T = 20, on the 3x4 and 4x4
               grids: QuTiP sesolve (default and tight tolerances) vs `qep prepare` (CF4
               Magnus) at settings whose fidelity error is no larger than QuTiP's default.
               Ratios use the propagation time of both (qep's `seconds`; the QuTiP call).
  * lindblad:  TFIM chain J = h = 1, sigma- at gamma = 0.1 on every qubit, 101 times to t = 10:
               QuTiP mesolve (defaults atol 1e-8, rtol 1e-6) vs `qep evolve --method rho` at the
               same tolerances (N = 8, 10); mcsolve (100 trajectories, 2 processes) vs
               `qep evolve --method trajectories` (N = 12).
QuTiP runs in a child process per measurement, as the peers' scripts do.

Needs the peers' venv (numpy, scipy, qutip; ../shared/peers/README.md).
Usage:  python benches/peers/side_by_side_dynamics.py [--qep target/release/qep]
                                                      [--only evolve|adiabatic|lindblad]
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS = os.path.join(ROOT, "..", "shared", "peers")
sys.path.insert(0, PEERS)

import numpy as np  # noqa: E402

import common as C  # noqa: E402


def emit(rec):
    print(json.dumps(rec), flush=True)
    return rec


def qep_json(qep, *args):
    t0 = time.perf_counter()
    out = subprocess.run([qep, *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout), time.perf_counter() - t0


def child(code):
    """Runs `code` (which prints one JSON line) in a fresh interpreter."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=PEERS, check=True)
    return json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])


def evolve(qep):
    import scipy.sparse.linalg as sla
    n, rows, cols = 20, 4, 5
    edges = C.grid_edges(rows, cols)
    psi0 = C.plus_state(n)
    A = C.build_numpy_csr(n, edges, scale=-1j)
    t0 = time.perf_counter()
    ref = sla.expm_multiply(A, psi0)
    ts = time.perf_counter() - t0
    del A
    z = C.z_signs(n, 0) * C.z_signs(n, 1)
    zz_s = float(np.real(np.vdot(ref, z * ref)))
    v, wall = qep_json(qep, "evolve", os.path.join(ROOT, "hamiltonians/bench/tfim_4x5.yaml"),
                       "--times", "1", "--observe", "Z0 Z1")
    zz_q = v["observables"]["Z0 Z1"][0]
    return emit({"bench": "evolve", "n": n, "scipy_expm_multiply_s": ts, "qep_s": wall,
                 "ratio": ts / wall, "zz01_scipy": zz_s, "zz01_qep": zz_q,
                 "agree": abs(zz_s - zz_q) < 1e-8, "qep_matvecs": v["matvecs"]})


SESOLVE = r'''
import json, numpy as np, time, qutip, common as C
from bench_adiabatic import even_ground_state
n, opts = {n}, {opts}
rows, cols = C.grid_of(n); edges = C.grid_edges(rows, cols); dims = [[2]*n, [2]*n]
Hx = C.build_numpy_csr(n, [], J=0.0, h=1.0); Hp = C.build_numpy_csr(n, edges, J=1.0, h=0.5)
evals, evecs, g = even_ground_state(Hp, n)
T = 20.0
H = qutip.QobjEvo([qutip.Qobj(Hx, dims=dims), [qutip.Qobj(Hp - Hx, dims=dims), lambda t: t / T]])
psi0 = qutip.Qobj(C.plus_state(n).reshape(-1, 1), dims=[[2]*n, [1]*n])
o = {{"store_final_state": True, "store_states": False, **opts}}
t0 = time.perf_counter(); r = qutip.sesolve(H, psi0, [0.0, T], options=o); dt = time.perf_counter() - t0
psi = r.final_state.full().ravel()
print(json.dumps({{"seconds": dt, "fidelity": float(abs(np.vdot(g, psi))**2)}}))
'''


def adiabatic(qep):
    out = []
    for n, grid, steps, tol in [(12, "3x4", 40, 1e-6), (16, "4x4", 30, 1e-6)]:
        f = os.path.join(ROOT, f"hamiltonians/bench/anneal_{grid}.yaml")
        default = child(SESOLVE.format(n=n, opts="{}"))
        tight = child(SESOLVE.format(n=n, opts='{"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**6}'))
        v, wall = qep_json(qep, "prepare", f, "--time", "20", "--gap-points", "0",
                           "--steps", str(steps), "--krylov-tol", str(tol))
        vt, wallt = qep_json(qep, "prepare", f, "--time", "20", "--gap-points", "0",
                             "--steps", "400", "--krylov-tol", "1e-12")
        err_q = abs(default["fidelity"] - tight["fidelity"])
        err_qep = abs(v["fidelity"] - tight["fidelity"])
        out.append(emit({
            "bench": "adiabatic", "n": n, "T": 20,
            "qutip_default_s": default["seconds"], "qutip_tight_s": tight["seconds"],
            "qep_s": v["seconds"], "qep_process_s": wall, "qep_steps": steps,
            "qep_krylov_tol": tol, "qep_tight_s": vt["seconds"],
            "ratio_default": default["seconds"] / v["seconds"],
            "ratio_tight": tight["seconds"] / vt["seconds"],
            "fidelity_qutip_default": default["fidelity"],
            "fidelity_qutip_tight": tight["fidelity"],
            "fidelity_qep": v["fidelity"], "fidelity_qep_tight": vt["fidelity"],
            "error_qutip_default": err_q, "error_qep": err_qep,
            "qep_at_least_as_accurate": err_qep <= err_q}))
    return out


LINDBLAD = r'''
import json, time, numpy as np, qutip
from bench_lindblad import model, TLIST, NTRAJ
n, kind = {n}, "{kind}"
Hq, c_ops, psi0, Z0 = model(n)
t0 = time.perf_counter()
if kind == "mesolve":
    r = qutip.mesolve(Hq, qutip.ket2dm(psi0), TLIST, c_ops, e_ops=[Z0], options={{"progress_bar": ""}})
else:
    r = qutip.mcsolve(Hq, psi0, TLIST, c_ops, e_ops=[Z0], ntraj=NTRAJ, seeds=12345,
                      options={{"progress_bar": "", "map": "parallel", "num_cpus": 2}})
dt = time.perf_counter() - t0
print(json.dumps({{"seconds": dt, "z0": [float(x) for x in np.asarray(r.expect[0]).real]}}))
'''


def lindblad(qep):
    times = ",".join(f"{t:.1f}" for t in np.linspace(0, 10, 101))
    out = []
    for n in (8, 10):
        me = child(LINDBLAD.format(n=n, kind="mesolve"))
        v, wall = qep_json(qep, "evolve", os.path.join(ROOT, f"hamiltonians/bench/lindblad_chain_{n}.yaml"),
                           "--method", "rho", "--times", times, "--observe", "Z0",
                           "--atol", "1e-8", "--rtol", "1e-6")
        z = v["observables"]["Z0"]
        out.append(emit({"bench": "lindblad-rho", "n": n, "qutip_mesolve_s": me["seconds"],
                         "qep_s": wall, "ratio": me["seconds"] / wall,
                         "max_abs_diff_z0": max(abs(a - b) for a, b in zip(z, me["z0"]))}))
    n = 12
    mc = child(LINDBLAD.format(n=n, kind="mcsolve"))
    v, wall = qep_json(qep, "evolve", os.path.join(ROOT, f"hamiltonians/bench/lindblad_chain_{n}.yaml"),
                       "--method", "trajectories", "--trajectories", "100", "--times", times,
                       "--observe", "Z0")
    out.append(emit({"bench": "lindblad-trajectories", "n": n, "ntraj": 100,
                     "qutip_mcsolve_2proc_s": mc["seconds"], "qep_s": wall,
                     "ratio": mc["seconds"] / wall, "z0_final_qutip": mc["z0"][-1],
                     "z0_final_qep": v["observables"]["Z0"][-1],
                     "z0_final_qep_sem": v["std_errors"]["Z0"][-1]}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qep", default=os.path.join(ROOT, "target/release/qep"))
    ap.add_argument("--only", choices=["evolve", "adiabatic", "lindblad"])
    a = ap.parse_args()
    emit({"machine": C.machine_info() if hasattr(C, "machine_info") else None,
          "load": os.getloadavg()})
    if a.only in (None, "evolve"):
        evolve(a.qep)
    if a.only in (None, "adiabatic"):
        adiabatic(a.qep)
    if a.only in (None, "lindblad"):
        lindblad(a.qep)


if __name__ == "__main__":
    main()
