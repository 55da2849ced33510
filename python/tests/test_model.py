"""qep.Model: loading, parameters and the Hamiltonian of Eq. 16."""

import numpy as np
import pytest

import qep


def test_from_yaml_params_theta_and_hamiltonian(repo):
    m = qep.Model.from_yaml(repo / "hamiltonians" / "xor.yaml")
    assert m.name == "xor" and m.num_qubits == 5
    assert m.inputs == [0, 1] and m.outputs == [4]
    assert len(m.params) == len(m.theta) == 24 and m.params[0] == "Z0 Z1 Z4"
    assert len(m.train_examples) + len(m.test_examples) == 4
    h0 = m.hamiltonian([3, -3])
    # Setting theta changes H by Σ Δθ_k P_k: with θ = 0 only fixed terms and fields remain.
    m.theta = np.zeros(24)
    assert np.all(m.theta == 0)
    hz = m.hamiltonian([3, -3])
    psi = np.zeros(32, complex)
    psi[0] = 1
    # ⟨0|H|0⟩ at θ = 0: fields u_0 + u_1 = 0, the transverse field has no diagonal.
    assert abs(hz.expectation(psi)) < 1e-12
    assert abs(h0.expectation(psi) - hz.expectation(psi)) > 1e-3
    # The clamp adds β/2 Σ (Z_o − d_o)²: on |0…0⟩ with d = −1, β(1+1)²/2 = 2β.
    hc = m.hamiltonian([3, -3], beta=0.5, targets=[-1])
    assert abs(hc.expectation(psi) - 2 * 0.5) < 1e-12


def test_theta_checks_length():
    m = qep.Model.from_dict({"qubits": 2, "params": [{"pauli": "Z0 Z1", "value": 0.5}]})
    with pytest.raises(ValueError, match="theta has 2 values; the model `_dict_` has 1 parameters"):
        m.theta = [1.0, 2.0]


def test_from_dict_equals_yaml_model():
    d = {
        "name": "pair",
        "qubits": 2,
        "inputs": [0],
        "outputs": [1],
        "terms": [{"pauli": "X0", "coeff": -1.0}, {"pauli": "X1", "coeff": -1.0}],
        "params": [{"pauli": "Z0 Z1", "value": np.float64(0.5)}],
    }
    m = qep.Model.from_dict(d)
    assert m.name == "pair" and m.params == ["Z0 Z1"]
    np.testing.assert_allclose(m.theta, [0.5])
    h = m.hamiltonian([1.0]).to_sparse_pauli_op().simplify()
    from qiskit.quantum_info import SparsePauliOp

    want = SparsePauliOp.from_list([("IX", -1), ("XI", -1), ("ZZ", 0.5), ("IZ", 1.0)])
    assert h.equiv(want)


def test_model_error_locates_the_problem(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("qubits: 2\nparams:\n  - {pauli: \"Z0 Z7\", value: 1}\n")
    with pytest.raises(qep.ModelError) as e:
        qep.Model.from_yaml(f)
    err = e.value
    assert str(err).startswith(f"{f}:3:")
    assert "qubit 7 does not exist" in str(err)
    assert (err.file, err.line, err.key) == (str(f), 3, "params[0].pauli")
    assert err.column >= 1
    assert isinstance(err, qep.QepError)
    with pytest.raises(qep.ModelError, match="cannot read the model file") as e:
        qep.Model.from_yaml(tmp_path / "missing.yaml")
    assert e.value.line is None and e.value.file == str(tmp_path / "missing.yaml")
