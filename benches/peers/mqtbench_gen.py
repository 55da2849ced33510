#!/usr/bin/env python3
"""MQT Bench circuits written as OpenQASM 2 and 3 files for `qasmbench.py` (qep against Aer).

Generates every MQT Bench benchmark (`pip install mqt.bench`) at the levels `alg` and `indep`,
and at `nativegates` for each gate set given, at each size, and writes what
`qiskit.qasm2.dumps` and `qiskit.qasm3.dumps` make of it as OUT/qasm2/small/<tag>/<tag>.qasm
and OUT/qasm3/small/<tag>/<tag>.qasm. Sizes a benchmark does not support and exports Qiskit
refuses are reported and skipped. MQT_START=name starts at that benchmark (alphabetical).

Usage:  python benches/peers/mqtbench_gen.py OUT 4,7,13 [ibm_falcon,ionq_forte,iqm,quantinuum,rigetti]
Then:   python benches/peers/qasmbench.py --root OUT/qasm2 --glob 'small/*/*.qasm' (and OUT/qasm3)
"""
import os, sys, traceback
from mqt.bench import get_benchmark, BenchmarkLevel
from mqt.bench.benchmarks import get_available_benchmark_names
from qiskit import qasm2, qasm3
from mqt.bench.targets import get_target_for_gateset
GATESETS = sys.argv[3].split(',') if len(sys.argv) > 3 else []
out = sys.argv[1]
sizes = [int(s) for s in sys.argv[2].split(",")]
START = os.environ.get('MQT_START', '')
for name in get_available_benchmark_names():
    if name < START:
        continue
    jobs = [(BenchmarkLevel.ALG, None), (BenchmarkLevel.INDEP, None)]
    jobs += [(BenchmarkLevel.NATIVEGATES, g) for g in GATESETS]
    for level, gs in jobs:
        for n in sizes:
            tag = f"{name}_{level.name.lower()}{'_' + gs.replace('+', '') if gs else ''}_n{n}"
            try:
                kw = {"target": get_target_for_gateset(gs, n)} if gs else {}
                qc = get_benchmark(name, level, n, **kw)
            except Exception as e:
                print(f"{tag}: generation failed: {str(e)[:120]}")
                continue
            for ver, dump in (("2", qasm2.dumps), ("3", qasm3.dumps)):
                try:
                    txt = dump(qc)
                except Exception as e:
                    print(f"{tag} qasm{ver}: export failed: {str(e)[:120]}")
                    continue
                d = os.path.join(out, f"qasm{ver}", "small", tag)
                os.makedirs(d, exist_ok=True)
                open(os.path.join(d, tag + ".qasm"), "w").write(txt)
print("done")
