#!/usr/bin/env python3
"""Writes the hostile OpenQASM reproducers of this folder (each must give a located error,
exit 1, never a crash): deep nesting of expressions, definitions and includes, exploding
definitions, huge registers, constructs outside the OpenQASM 3 subset.
Run:  python tests/data/bad/make_bad_qasm.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
H2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
H3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'

FILES = {
    "qasm_deep_parens.qasm": H2 + "qreg q[1];\nrz(" + "(" * 20000 + "0.1" + ")" * 20000
    + ") q[0];\n",
    "qasm_minus_signs.qasm": H2 + "qreg q[1];\nrz(" + "-" * 50000 + "0.1) q[0];\n",
    "qasm_huge_creg.qasm": H2 + "qreg q[1];\ncreg c[4294967296];\nmeasure q[0] -> c[0];\n",
    "qasm_gate_uses_itself.qasm": H2 + "qreg q[1];\ngate g a { h a; g a; }\ng q[0];\n",
    "qasm_gate_nesting.qasm": H2 + "qreg q[1];\ngate g0 a { h a; }\n"
    + "".join(f"gate g{k} a {{ g{k - 1} a; }}\n" for k in range(1, 10000))
    + "g9999 q[0];\n",
    "qasm_gate_explosion.qasm": H2 + "qreg q[1];\ngate g0 a { h a; h a; }\n"
    + "".join(f"gate g{k} a {{ g{k - 1} a; g{k - 1} a; }}\n" for k in range(1, 64))
    + "g63 q[0];\n",
    "qasm_include_loop.qasm": H2 + 'include "qasm_include_loop.inc";\nqreg q[1];\n',
    "qasm_include_loop.inc": 'include "qasm_include_loop.inc";\n',
    "qasm3_deep_parens.qasm": H3 + "qubit[1] q;\nrz(" + "(" * 20000 + "0.1" + ")" * 20000
    + ") q[0];\n",
    "qasm3_minus_signs.qasm": H3 + "qubit[1] q;\nrz(" + "-" * 50000 + "0.1) q[0];\n",
    "qasm3_huge_bits.qasm": H3 + "qubit[1] q;\nbit[4294967296] c;\n",
    "qasm3_for_loop.qasm": H3 + "qubit[2] q;\nfor int i in [0:1] {\n  h q[i];\n}\n",
}

for name, text in FILES.items():
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)
print(f"{len(FILES)} files written to {HERE}")
