#!/usr/bin/env python3
"""Published OpenQASM 2 circuits (QASMBench) through qep and Qiskit Aer, as they are published.

Runs every `small` and `medium` circuit of a QASMBench checkout (github.com/pnnl/QASMBench) up
to --max-qubits through `qep circuit run FILE --shots S --seed 1 --json` and through Aer
(`qasm2.loads` with Qiskit's legacy custom instructions, statevector method), and compares the
two count distributions by total variation distance. A circuit agrees when the distance is at
most 3 times its expected shot-noise size (or 0.02). Circuits that reset qubits mid-way are
sampled with 1024 Aer shots (Aer runs every shot of them separately); the largest of those are
run by qep only. A file that qep refuses is reported with qep's message; check it against
Qiskit's own parser (some published files are malformed).

Usage:  python benches/peers/qasmbench.py --root PATH/TO/QASMBench [--qep target/release/qep]
            [--shots 8192] [--max-qubits 22]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import time
from collections import Counter

import numpy as np
from qiskit import qasm2, transpile
from qiskit_aer import AerSimulator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="a QASMBench checkout (holds small/, medium/)")
    ap.add_argument("--qep", default=os.path.join(ROOT, "target", "release", "qep"))
    ap.add_argument("--shots", type=int, default=8192)
    ap.add_argument("--max-qubits", type=int, default=22)
    a = ap.parse_args()
    sim = AerSimulator(method="statevector")
    files = sorted(glob.glob(f"{a.root}/small/*/*.qasm") + glob.glob(f"{a.root}/medium/*/*.qasm"))
    files = [f for f in files if "transpiled" not in f]
    verdicts = []
    for f in files:
        txt = open(f).read()
        nq = sum(int(m) for m in re.findall(r"qreg\s+\w+\[(\d+)\]", txt))
        name = os.path.relpath(f, a.root)
        if nq > a.max_qubits:
            print(f"{name}: {nq} qubits, skipped (> {a.max_qubits})")
            continue
        t = time.time()
        r = subprocess.run([a.qep, "circuit", "run", f, "--shots", str(a.shots), "--seed", "1",
                            "--json"], capture_output=True, text=True)
        took = time.time() - t
        if r.returncode != 0:
            print(f"{name}: {nq} qubits, qep refused it: {r.stderr.strip()[:300]}")
            verdicts.append("qep refused")
            continue
        mine = json.loads(r.stdout)["counts"]
        if len(txt) > 500_000 and "reset" in txt:
            print(f"{name}: {nq} qubits, qep {took:.2f} s, {len(mine)} outcomes; Aer not run "
                  f"(mid-circuit resets, {len(txt) // 1000} kB)", flush=True)
            verdicts.append("qep only")
            continue
        qc = qasm2.loads(txt, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        if qc.num_clbits == 0:
            qc.measure_all()
        na = 1024 if "reset" in txt else a.shots
        aer = sim.run(transpile(qc, sim), shots=na, seed_simulator=1).result().get_counts()
        keys = set(mine) | set(aer)
        p = {k: aer.get(k, 0) / na for k in keys}
        tvd = 0.5 * sum(abs(mine.get(k, 0) / a.shots - p[k]) for k in keys)
        # Expected distance of two samples of the same distribution, to leading order.
        noise = sum(np.sqrt(p[k] * (1 - p[k]) * (1 / a.shots + 1 / na)) for k in keys) \
            * np.sqrt(1 / (2 * np.pi))
        ok = tvd <= max(3 * noise, 0.02)
        print(f"{name}: {nq} qubits, {'agrees' if ok else 'DIFFERS'}: distance {tvd:.4f} "
              f"(shot noise ~{noise:.4f}), {len(keys)} outcomes, qep {took:.2f} s", flush=True)
        verdicts.append("agrees" if ok else "differs")
    print(dict(Counter(verdicts)))


if __name__ == "__main__":
    main()
