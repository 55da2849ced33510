#!/usr/bin/env python3
"""qep's circuit executor against Qiskit Aer, qulacs and qsim, side by side in one run.

The workload is ../shared/peers/bench_circuit.py's (imported from there, not copied): a
seeded layered random circuit on N qubits, `depth` layers of {h, rx, ry, rz} on every qubit
and a brick of cx, 1000 shots of every qubit. qep is timed as a whole process
(`qep circuit run FILE --shots S --json`: parse, simulate, sample), in complex128 and with
`--precision single` (complex64); Aer (statevector, its default fusion), qulacs and qsim
(complex64, its default fusion, one thread per core) are timed on their simulation call
only, imports and circuit construction excluded, as in bench_circuit.py. Tools alternate
within every repetition, so machine drift and the load of other processes hit all alike.

Every measurement reports the wall time (median_s) and the CPU time, user + sys
(median_cpu_s: this process's threads for the in-process peers, the waited-for child for
qep), which moves less than the wall time when the machine is shared.

Needs the circuit venv (qiskit 2.6.2, qiskit-aer 0.18.2, qulacs 0.6.14, qsimcirq 0.22.1,
cirq-core; see ../shared/peers/requirements.txt), e.g. in the checkout (git-ignored):
    python3 -m venv .venv
    .venv/bin/pip install qiskit==2.6.2 qiskit-aer==0.18.2 qulacs==0.6.14 \
        qsimcirq==0.22.1 numpy==2.4.6
Usage:
    .venv/bin/python benches/peers/side_by_side_circuit.py \
        [--qep target/release/qep] [--sizes 20 22 24] [--reps 3] [--qep-before OLD_QEP]
Prints one JSON line per measurement, then a summary table with the ratios.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "..", "shared", "peers"))

from bench_circuit import layered, to_qasm  # noqa: E402


def timed(f):
    """(wall seconds, CPU seconds user+sys) of one call: the CPU time of this process's
    threads (the in-process peers) plus that of the children it waited for (qep)."""
    import resource
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = time.process_time() + ch.ru_utime + ch.ru_stime
    t0 = time.perf_counter()
    f()
    wall = time.perf_counter() - t0
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, time.process_time() + ch.ru_utime + ch.ru_stime - c0


def tools(n, ops, path, qep, shots, qep_before=None):
    """name -> zero-argument function running one simulation (warm-up done by the caller).
    With `qep_before` (another qep binary, e.g. main's before a change), its runs are timed
    too, as `before_double` and `before_single`, in the same repetitions."""
    out = {}
    bins = [("qep", qep)] + ([("before", qep_before)] if qep_before else [])
    for label, binary in bins:
        for prec in ["double", "single"]:
            cmd = [binary, "circuit", "run", path, "--shots", str(shots), "--json",
                   "--precision", prec]
            out[f"{label}_{prec}"] = (
                lambda cmd=cmd: subprocess.run(cmd, capture_output=True, check=True))
    from qiskit import qasm2
    from qiskit_aer import AerSimulator
    qc = qasm2.load(path)
    qc.measure_all()
    aer = AerSimulator(method="statevector")
    out["aer"] = lambda: aer.run(qc, shots=shots).result()
    from qulacs import QuantumCircuit, QuantumState
    qcirc = QuantumCircuit(n)
    for g, qs, ang in ops:
        if g == "h":
            qcirc.add_H_gate(qs[0])
        elif g == "rx":
            qcirc.add_RX_gate(qs[0], ang)
        elif g == "ry":
            qcirc.add_RY_gate(qs[0], ang)
        elif g == "rz":
            qcirc.add_RZ_gate(qs[0], ang)
        else:
            qcirc.add_CNOT_gate(qs[0], qs[1])

    def run_qulacs():
        st = QuantumState(n)
        qcirc.update_quantum_state(st)
        st.sampling(shots)
    out["qulacs"] = run_qulacs
    import cirq
    import qsimcirq
    qq = cirq.LineQubit.range(n)
    circ = cirq.Circuit()
    for g, qs, ang in ops:
        if g == "h":
            circ.append(cirq.H(qq[qs[0]]))
        elif g == "rx":
            circ.append(cirq.rx(ang)(qq[qs[0]]))
        elif g == "ry":
            circ.append(cirq.ry(ang)(qq[qs[0]]))
        elif g == "rz":
            circ.append(cirq.rz(ang)(qq[qs[0]]))
        else:
            circ.append(cirq.CNOT(qq[qs[0]], qq[qs[1]]))
    circ.append(cirq.measure(*qq, key="m"))
    qsim = qsimcirq.QSimSimulator({"t": os.cpu_count()})
    out["qsim"] = lambda: qsim.run(circ, repetitions=shots)
    return out


def versions():
    import importlib.metadata as md
    v = {"python": platform.python_version()}
    for p in ["qiskit", "qiskit-aer", "qulacs", "qsimcirq", "cirq-core", "numpy"]:
        try:
            v[p] = md.version(p)
        except md.PackageNotFoundError:
            v[p] = None
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qep", default=os.path.join(ROOT, "target", "release", "qep"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 22, 24])
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shots", type=int, default=1000)
    ap.add_argument("--qep-before", default=None,
                    help="a second qep binary timed alongside (before/after a change)")
    a = ap.parse_args()
    print(json.dumps({"bench": "circuit_side_by_side", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "versions": versions(), "cpus": os.cpu_count(),
                      "load_before": os.getloadavg(), "qep": a.qep,
                      "qep_before": a.qep_before}), flush=True)
    tmp = tempfile.mkdtemp()
    summary = {}
    summary_cpu = {}
    for n in a.sizes:
        ops = layered(n, a.depth, 1234 + n)
        path = os.path.join(tmp, f"rand_{n}.qasm")
        with open(path, "w") as f:
            f.write(to_qasm(n, ops))
        fns = tools(n, ops, path, a.qep, a.shots, a.qep_before)
        for f in fns.values():
            f()  # warm-up
        times = {k: [] for k in fns}
        cpus = {k: [] for k in fns}
        for _ in range(a.reps):
            for k, f in fns.items():
                wall, cpu = timed(f)
                times[k].append(wall)
                cpus[k].append(cpu)
        load = os.getloadavg()
        for k, ts in times.items():
            m = statistics.median(ts)
            summary[(n, k)] = m
            summary_cpu[(n, k)] = statistics.median(cpus[k])
            print(json.dumps({"bench": "circuit", "sim": k, "qubits": n, "depth": a.depth,
                              "gates": len(ops), "shots": a.shots, "median_s": m,
                              "times_s": ts, "median_cpu_s": statistics.median(cpus[k]),
                              "cpu_s": cpus[k], "load": load}), flush=True)
    names = ["qep_double", "qep_single", "aer", "qulacs", "qsim"]
    if a.qep_before:
        names += ["before_double", "before_single"]
    for title, table in [("wall time", summary), ("CPU time (user + sys)", summary_cpu)]:
        print(f"\n{title}\n\n| qubits | " + " | ".join(names)
              + " | qsim/qep_double | aer/qep_double | qsim/qep_single |")
        print("|---" * (len(names) + 4) + "|")
        for n in a.sizes:
            t = {k: table[(n, k)] for k in names}
            print(f"| {n} | " + " | ".join(f"{t[k]:.3f} s" for k in names)
                  + f" | {t['qsim'] / t['qep_double']:.2f} | {t['aer'] / t['qep_double']:.2f}"
                  + f" | {t['qsim'] / t['qep_single']:.2f} |")
    print(json.dumps({"bench": "circuit_side_by_side_end", "load_after": os.getloadavg()}),
          flush=True)


if __name__ == "__main__":
    main()
