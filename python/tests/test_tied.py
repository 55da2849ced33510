"""Tied parameters from Python: one θ multiplying several Pauli strings, and the shot-aware
default β of ``Model.grad(shots=S)``."""

import numpy as np
import pytest

import qep

HEAD = {
    "qubits": 3,
    "inputs": [0],
    "outputs": [2],
    "terms": [{"pauli": f"X{q}", "coeff": -1.0} for q in range(3)],
    "dataset": {"inputs": [[0.5]], "targets": [[1]]},
}


def test_parameters_expose_the_tie(repo):
    m = qep.Model.from_yaml(repo / "hamiltonians" / "heisenberg_xor.yaml")
    p = m.parameters
    assert len(p) == len(m.params) == len(m.theta) == 14
    assert p[0]["paulis"] == ["Z0 Z1 Z4", "X2 X3 X4"] and p[0]["coeffs"] == [1.0, 0.5]
    assert p[0]["family"] is None and p[0]["label"] == "Z0 Z1 Z4 + 0.5 X2 X3 X4"
    assert p[1] == {
        "label": "X0 X1 + Y0 Y1 + Z0 Z1",
        "paulis": ["X0 X1", "Y0 Y1", "Z0 Z1"],
        "coeffs": [1.0, 1.0, 1.0],
        "family": "heisenberg",
        "value": p[1]["value"],
    }
    g = m.grad(example=0, beta=1e-4)
    assert g["ep"].shape == (14,)
    assert np.max(np.abs(g["ep"] - g["exact"])) < 1e-6


def test_tied_gradient_is_the_weighted_sum_of_the_untied():
    tied = qep.Model.from_dict(
        {
            **HEAD,
            "params": [
                {"paulis": ["X0 X1", "Y0 Y1", "Z0 Z1"], "coeffs": [1, 1, 0.5], "value": 0.4},
                {"pauli": "Z1 Z2", "value": -0.3},
            ],
        }
    )
    untied = qep.Model.from_dict(
        {
            **HEAD,
            "params": [
                {"pauli": "X0 X1", "value": 0.4},
                {"pauli": "Y0 Y1", "value": 0.4},
                {"pauli": "Z0 Z1", "value": 0.2},
                {"pauli": "Z1 Z2", "value": -0.3},
            ],
        }
    )
    gt = tied.grad(example=0, beta=0.01)
    gu = untied.grad(example=0, beta=0.01)
    want = [gu["exact"][0] + gu["exact"][1] + 0.5 * gu["exact"][2], gu["exact"][3]]
    assert np.allclose(gt["exact"], want, atol=1e-10)
    assert abs(want[0]) > 1e-3


def test_malformed_tie_is_a_model_error():
    with pytest.raises(qep.ModelError, match=r"`params\[0\]\.paulis`: `paulis` is empty"):
        qep.Model.from_dict({**HEAD, "params": [{"paulis": [], "value": 0.1}]})


def test_grad_with_shots_and_no_beta_is_shot_aware(repo):
    m = qep.Model.from_yaml(repo / "hamiltonians" / "xor.yaml")
    g = m.grad(example=0, shots=1000, seed=1)
    assert g["beta_source"] == "shot-aware"
    fit = g["shot_aware"]
    s = 1000
    assert g["beta"] == pytest.approx((fit["sigma"] / (2 * fit["b"] * s**0.5)) ** (1 / 3))
    assert g["provenance"]["settings"]["beta_source"] == "shot-aware"
    given = m.grad(example=0, shots=1000, seed=1, beta=0.05)
    assert given["beta"] == 0.05 and given["beta_source"] == "given"
