#!/usr/bin/env python3
"""Published OpenQASM circuits (QASMBench, MQT Bench) through qep and Qiskit Aer, as published.

Runs every `small` and `medium` circuit of a QASMBench checkout (github.com/pnnl/QASMBench) up
to --max-qubits through `qep circuit run FILE --shots S --seed 1 --json` and through Aer
(`qasm2.loads` with Qiskit's legacy custom instructions, statevector method), and compares the
two count distributions by total variation distance. A circuit agrees when the distance is at
most 1.5 times (+ 0.01) the distance expected between two samples of one distribution (the
larger of Aer against itself with another seed and the leading-order formula). Circuits that reset qubits mid-way are
sampled with 1024 Aer shots (Aer runs every shot of them separately); the largest of those are
run by qep only. A file that qep refuses is reported with qep's message; check it against
Qiskit's own parser (some published files are malformed). Files that begin `OPENQASM 3` are read
on Qiskit's side by `qasm3.loads` (needs qiskit-qasm3-import); --glob picks other layouts, e.g.
MQT Bench exports written as `DIR/<name>/<name>.qasm`.

Usage:  python benches/peers/qasmbench.py --root PATH/TO/QASMBench [--qep target/release/qep]
            [--shots 8192] [--max-qubits 22] [--glob 'small/*/*.qasm,medium/*/*.qasm']
"""
import argparse
import glob
import json
import math
import os
import re
import subprocess
import time
from collections import Counter

from qiskit import qasm2, qasm3, transpile
from qiskit_aer import AerSimulator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="a QASMBench checkout (holds small/, medium/)")
    ap.add_argument("--qep", default=os.path.join(ROOT, "target", "release", "qep"))
    ap.add_argument("--shots", type=int, default=8192)
    ap.add_argument("--max-qubits", type=int, default=22)
    ap.add_argument("--glob", default="small/*/*.qasm,medium/*/*.qasm",
                    help="comma-separated patterns under --root")
    a = ap.parse_args()
    sim = AerSimulator(method="statevector")
    files = sorted(f for g in a.glob.split(",") for f in glob.glob(os.path.join(a.root, g)))
    files = [f for f in files if "transpiled" not in f]
    verdicts = []
    for f in files:
        txt = open(f).read()
        nq = sum(int(m) for m in re.findall(r"qreg\s+\w+\[(\d+)\]", txt))
        nq += sum(int(m) for m in re.findall(r"\bqubit\[(\d+)\]", txt))
        hw = [int(m) for m in re.findall(r"\$(\d+)", txt)]
        nq = max([nq] + [h + 1 for h in hw])  # hardware qubits: `$0 … $n` wide
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
        if re.match(r"\s*(//[^\n]*\n\s*)*OPENQASM\s+3", txt):
            qc = qasm3.loads(txt)
        else:
            qc = qasm2.loads(txt, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        if qc.num_clbits == 0:
            qc.measure_all()
        na = 1024 if "reset" in txt else a.shots
        tc = transpile(qc, sim)

        def aer(seed):
            c = sim.run(tc, shots=na, seed_simulator=seed).result().get_counts()
            return {k: v / na for k, v in c.items()}

        def tvd(x, y):
            return 0.5 * sum(abs(x.get(k, 0) - y.get(k, 0)) for k in set(x) | set(y))

        # The yardstick is the larger of two estimates of the distance two samples of the same
        # distribution have at these shot counts: Aer against itself with another seed (right
        # whatever the entropy; a formula from sampled probabilities underestimates it when most
        # outcomes are seen once or never) and the leading-order formula (Aer's seeds barely
        # move the counts of circuits it branches at mid-circuit measurements).
        ref, other = aer(1), aer(2)
        ours = {k: v / a.shots for k, v in mine.items()}
        formula = sum(math.sqrt(p * (1 - p) * (1 / a.shots + 1 / na)) for p in ref.values()) \
            / math.sqrt(2 * math.pi)
        d, noise = tvd(ours, ref), max(tvd(other, ref), formula)
        ok = d <= 1.5 * noise + 0.01
        print(f"{name}: {nq} qubits, {'agrees' if ok else 'DIFFERS'}: distance {d:.4f} "
              f"(expected between samples {noise:.4f}), {len(set(ours) | set(ref))} outcomes, "
              f"qep {took:.2f} s", flush=True)
        verdicts.append("agrees" if ok else "differs")
    print(dict(Counter(verdicts)))


if __name__ == "__main__":
    main()
