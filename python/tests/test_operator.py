"""qep.Operator and qep.Spectrum against Qiskit's and scipy's matrices."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse.linalg as sla
from qiskit.quantum_info import SparsePauliOp

import qep


def random_sparse_pauli_op(n, terms, rng, hermitian=True):
    """Random Pauli strings (Y letters included) with random coefficients."""
    letters = np.array(list("IXYZ"))
    labels = ["".join(rng.choice(letters, n)) for _ in range(terms)]
    coeffs = rng.normal(size=terms)
    if not hermitian:
        coeffs = coeffs + 1j * rng.normal(size=terms)
    return SparsePauliOp(labels, coeffs)


def random_state(n, rng):
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return psi / np.linalg.norm(psi)


@pytest.mark.parametrize("hermitian", [True, False])
def test_apply_matches_qiskit_matrix_at_10_qubits(hermitian):
    rng = np.random.default_rng(7)
    spo = random_sparse_pauli_op(10, 40, rng, hermitian)
    assert sum("Y" in label for label in spo.paulis.to_labels()) > 5
    op = qep.Operator.from_sparse_pauli_op(spo)
    psi = random_state(10, rng)
    want = spo.to_matrix(sparse=True) @ psi
    got = op.apply(psi)
    assert got.dtype == np.complex128 and got.shape == (1024,)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-11)
    # A real array and a non-contiguous view are converted, not refused.
    real = rng.normal(size=2048)[::2]
    np.testing.assert_allclose(op.apply(real), spo.to_matrix(sparse=True) @ real, atol=1e-11)


def test_expectation_matches_qiskit():
    rng = np.random.default_rng(3)
    spo = random_sparse_pauli_op(8, 30, rng)
    psi = random_state(8, rng)
    from qiskit.quantum_info import Statevector

    want = Statevector(psi).expectation_value(spo)
    got = qep.Operator.from_sparse_pauli_op(spo).expectation(psi)
    assert isinstance(got, float)
    assert abs(got - want.real) < 1e-11


def test_from_terms_uses_qubit_i_is_bit_i():
    # X on qubit 0 flips bit 0: |0> -> |1> is index 1; Qiskit's label of X0 on 3 qubits is IIX.
    op = qep.Operator.from_terms([("X0", 1.0), ("Z2", 0.5)], 3)
    out = op.apply(np.eye(8)[0])
    np.testing.assert_allclose(out, 0.5 * np.eye(8)[0] + np.eye(8)[1])
    spo = op.to_sparse_pauli_op()
    assert spo.paulis.to_labels() == ["IIX", "ZII"]
    np.testing.assert_allclose(spo.coeffs, [1.0, 0.5])
    back = qep.Operator.from_sparse_pauli_op(spo)
    assert back.terms == [("X0", 1 + 0j), ("Z2", 0.5 + 0j)]


def test_spectrum_matches_eigsh():
    rng = np.random.default_rng(11)
    spo = random_sparse_pauli_op(10, 30, rng)
    op = qep.Operator.from_sparse_pauli_op(spo)
    spec = op.spectrum(k=3, tol=1e-9)
    want = np.sort(sla.eigsh(spo.to_matrix(sparse=True), k=4, which="SA")[0])
    np.testing.assert_allclose(spec.energies, want[:3], rtol=0, atol=1e-8)
    assert spec.states.shape == (1024, 3)
    assert spec.residuals.shape == (3,) and np.all(spec.residuals <= 1e-9)
    assert abs(spec.gap - (want[1] - want[0])) < 1e-8
    # The states are eigenvectors: ‖Hψ − Eψ‖ as reported.
    for j in range(3):
        psi = spec.states[:, j]
        r = np.linalg.norm(op.apply(psi) - spec.energies[j] * psi)
        assert r <= 1e-9
        assert abs(np.linalg.norm(psi) - 1) < 1e-12


def test_to_scipy_equals_qiskit_matrix_and_refuses_large():
    rng = np.random.default_rng(5)
    spo = random_sparse_pauli_op(6, 12, rng)
    m = qep.Operator.from_sparse_pauli_op(spo).to_scipy()
    assert m.format == "csr" and m.shape == (64, 64)
    np.testing.assert_allclose(m.toarray(), spo.to_matrix(), atol=1e-14)
    with pytest.raises(qep.QepError, match="to_scipy converts at most 20 qubits"):
        qep.Operator.from_terms([("Z21", 1.0)], 22).to_scipy()


def test_errors():
    with pytest.raises(qep.QepError, match="bad Pauli letter `Q`"):
        qep.Operator.from_terms([("Q0", 1.0)], 2)
    with pytest.raises(qep.QepError, match="acts on qubit 5; expected indices < 2"):
        qep.Operator.from_terms([("X5", 1.0)], 2)
    op = qep.Operator.from_terms([("X0", 1.0)], 2)
    with pytest.raises(ValueError, match="state has 3 amplitudes; expected 2\\*\\*2 = 4"):
        op.apply(np.ones(3))
    with pytest.raises(qep.QepError, match="k = 5 levels requested from a space of dimension 4"):
        op.spectrum(k=5)
    with pytest.raises(qep.QepError, match="not Hermitian"):
        qep.Operator.from_terms([("X0", 1j)], 2).spectrum()


def test_not_converged_error_carries_the_cli_message():
    rng = np.random.default_rng(1)
    op = qep.Operator.from_sparse_pauli_op(random_sparse_pauli_op(12, 60, rng))
    with pytest.raises(qep.NotConvergedError, match=r"Lanczos: 0/2 pairs after 20 operator applications; best residual"):
        op.spectrum(k=1, max_matvecs=20)
    assert issubclass(qep.NotConvergedError, qep.QepError)


def test_memory_limit_error():
    # The limit is read once per process: set it for a child interpreter.
    code = (
        "import qep\n"
        "op = qep.Operator.from_terms([('Z0 Z1', 1.0), ('X3', 1.0)], 20)\n"
        "try:\n"
        "    op.spectrum(k=1)\n"
        "except qep.MemoryLimitError as e:\n"
        "    print('MemoryLimitError:', e)\n"
    )
    env = dict(os.environ, QEP_MEMORY_LIMIT="1M")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MemoryLimitError: ")
    assert "QEP_MEMORY_LIMIT" in out.stdout and "Operator.spectrum" in out.stdout
