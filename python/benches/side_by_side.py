"""Calling qep through Python, side by side with the CLI and with Qiskit Aer.

1. ``Operator.apply`` on the 20-qubit TFIM grid (``hamiltonians/bench/tfim_4x5.yaml``): median
   seconds per ``H·ψ`` through Python against ``qep bench`` (the same kernel from the CLI).
2. ``EstimatorV2`` at precision 0 on a 20-qubit circuit with a 200-term observable, against
   ``qiskit_aer.primitives.EstimatorV2`` (exact expectation values too).

Run from the repository root after ``cargo build --release`` and ``pip install ./python``:

    python python/benches/side_by_side.py [--reps 7]
"""

import argparse
import json
import pathlib
import subprocess
import time

import numpy as np

import qep

ROOT = pathlib.Path(__file__).resolve().parents[2]


def median_time(f, reps):
    f()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def apply_side_by_side(reps):
    model = ROOT / "hamiltonians" / "bench" / "tfim_4x5.yaml"
    h = qep.Model.from_yaml(model).hamiltonian()
    rng = np.random.default_rng(1)
    psi = rng.normal(size=2**20) + 1j * rng.normal(size=2**20)
    psi /= np.linalg.norm(psi)
    py = median_time(lambda: h.apply(psi), reps)
    cli = json.loads(
        subprocess.run(
            [str(ROOT / "target" / "release" / "qep"), "bench", str(model), "--reps", str(reps), "--json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["apply_seconds"]
    return {"python_apply_seconds": py, "cli_apply_seconds": cli, "ratio": py / cli}


def estimator_side_by_side(reps):
    from qiskit.circuit.library import efficient_su2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.primitives import EstimatorV2 as AerEstimator

    from qep.qiskit import EstimatorV2

    n = 20
    qc = efficient_su2(n, reps=2, entanglement="linear")
    qc = qc.assign_parameters(np.random.default_rng(2).uniform(-np.pi, np.pi, qc.num_parameters))
    qc = qc.decompose()
    rng = np.random.default_rng(3)
    labels = ["".join(rng.choice(list("IXYZ"), n, p=[0.85, 0.05, 0.05, 0.05])) for _ in range(200)]
    obs = SparsePauliOp(labels, rng.normal(size=200))
    ours = EstimatorV2()
    aer = AerEstimator(options={"default_precision": 0.0, "backend_options": {"method": "statevector"}})
    a = ours.run([(qc, obs)]).result()[0].data.evs
    b = aer.run([(qc, obs)]).result()[0].data.evs
    t_ours = median_time(lambda: ours.run([(qc, obs)]).result(), reps)
    t_aer = median_time(lambda: aer.run([(qc, obs)]).result(), reps)
    return {
        "qep_seconds": t_ours,
        "aer_seconds": t_aer,
        "speedup": t_aer / t_ours,
        "abs_difference": float(abs(a - b)),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=7)
    args = p.parse_args()
    print(json.dumps({"apply_tfim_4x5": apply_side_by_side(args.reps)}, indent=1))
    print(json.dumps({"estimator_20q_200_terms": estimator_side_by_side(args.reps)}, indent=1))


if __name__ == "__main__":
    main()
