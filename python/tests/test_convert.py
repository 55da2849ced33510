"""`qep convert` against Qiskit's own SparsePauliOp (and OpenFermion's parser when it is
installed): the converted operator is the same operator, qubit order included."""

import json
import subprocess

import numpy as np
import pytest
from conftest import REPO, cli_binary

from qiskit.quantum_info import SparsePauliOp


def qep(*args):
    """Runs ``qep ARGS...`` in the repository; returns the completed process."""
    return subprocess.run(
        [str(cli_binary()), *map(str, args)], cwd=REPO, capture_output=True, text=True
    )


def ok(*args):
    out = qep(*args)
    assert out.returncode == 0, out.stderr
    return out


def random_op(n, terms, seed, complex_coeffs=False):
    rng = np.random.default_rng(seed)
    labels = {"".join(rng.choice(list("IXYZ"), n)) for _ in range(terms)}
    coeffs = rng.normal(size=len(labels))
    if complex_coeffs:
        coeffs = coeffs + 1j * rng.normal(size=len(labels))
    return SparsePauliOp.from_list(list(zip(sorted(labels), coeffs)))


def to_json(op):
    """``SparsePauliOp.to_list()`` as JSON: real coefficients as numbers, complex as [re, im]."""
    return [
        [label, c.real if c.imag == 0 else [c.real, c.imag]] for label, c in op.to_list()
    ]


def from_json(data):
    return SparsePauliOp.from_list(
        [(label, complex(*c) if isinstance(c, list) else c) for label, c in data]
    )


def test_qiskit_round_trip_through_yaml_keeps_the_operator(tmp_path):
    op = random_op(5, 20, seed=1)
    (tmp_path / "h.json").write_text(json.dumps(to_json(op)))
    ok("convert", tmp_path / "h.json", tmp_path / "h.yaml")
    ok("convert", tmp_path / "h.yaml", tmp_path / "back.json")
    back = from_json(json.loads((tmp_path / "back.json").read_text()))
    assert back.num_qubits == 5
    assert back.simplify().equiv(op.simplify())
    assert np.allclose(back.to_matrix(), op.to_matrix(), atol=1e-14)


def test_spectrum_of_the_converted_model_is_qiskits(tmp_path):
    op = random_op(6, 30, seed=2)
    (tmp_path / "h.json").write_text(json.dumps(to_json(op)))
    ok("convert", tmp_path / "h.json", tmp_path / "h.yaml")
    out = ok("spectrum", tmp_path / "h.yaml", "-k", "4", "--json")
    got = np.array(json.loads(out.stdout)["energies"])
    want = np.linalg.eigvalsh(op.to_matrix())[:4]
    np.testing.assert_allclose(got, want, atol=1e-8)


def test_qiskit_label_order_is_qubit_zero_rightmost(tmp_path):
    op = SparsePauliOp.from_list([("IIZX", 0.5), ("YIII", -0.25)])
    (tmp_path / "h.json").write_text(json.dumps(to_json(op)))
    ok("convert", tmp_path / "h.json", tmp_path / "h.txt")
    text = (tmp_path / "h.txt").read_text()
    assert "0.5 [X0 Z1]" in text and "-0.25 [Y3]" in text, text


def test_complex_coefficients_survive_openfermion_text_and_refuse_yaml(tmp_path):
    op = random_op(4, 12, seed=3, complex_coeffs=True)
    (tmp_path / "h.json").write_text(json.dumps(to_json(op)))
    ok("convert", tmp_path / "h.json", tmp_path / "h.of")
    ok("convert", tmp_path / "h.of", tmp_path / "back.json", "--qubits", "4")
    back = from_json(json.loads((tmp_path / "back.json").read_text()))
    assert back.simplify().equiv(op.simplify())
    bad = qep("convert", tmp_path / "h.json", tmp_path / "h.yaml")
    assert bad.returncode == 1
    assert "expected a real coefficient for a qep model" in bad.stderr


def test_openfermion_reads_what_qep_writes_and_qep_reads_what_it_prints(tmp_path):
    of = pytest.importorskip("openfermion")
    op = random_op(4, 10, seed=4)
    (tmp_path / "h.json").write_text(json.dumps(to_json(op)))
    ok("convert", tmp_path / "h.json", tmp_path / "h.txt")
    parsed = of.QubitOperator((tmp_path / "h.txt").read_text())
    want = of.QubitOperator()
    for label, c in op.to_list():
        term = " ".join(f"{p}{q}" for q, p in enumerate(reversed(label)) if p != "I")
        want += of.QubitOperator(term, c)
    assert parsed == want
    (tmp_path / "of.txt").write_text(str(want))
    ok("convert", tmp_path / "of.txt", tmp_path / "of.json", "--qubits", "4")
    back = from_json(json.loads((tmp_path / "of.json").read_text()))
    assert back.simplify().equiv(op.simplify())
