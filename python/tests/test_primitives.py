"""qep.qiskit's SamplerV2, EstimatorV2 and QepBackend against exact probabilities and
Qiskit's Statevector."""

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Instruction, Parameter
from qiskit.circuit.random import random_circuit
from qiskit.exceptions import QiskitError
from qiskit.quantum_info import SparsePauliOp, Statevector

import qep
from qep.qiskit import EstimatorV2, QepBackend, SamplerV2


def tvd(counts: dict, probs: dict) -> float:
    shots = sum(counts.values())
    keys = set(counts) | set(probs)
    return 0.5 * sum(abs(counts.get(k, 0) / shots - probs.get(k, 0.0)) for k in keys)


def exact_probs(qc: QuantumCircuit) -> dict:
    """Probabilities of the final measurement of a circuit measuring every qubit into c."""
    return Statevector(qc.remove_final_measurements(inplace=False)).probabilities_dict()


@pytest.mark.parametrize("seed", [3, 17, 42])
def test_sampler_matches_exact_probabilities_on_random_circuits(seed):
    qc = random_circuit(6, 8, max_operands=3, measure=True, seed=seed)
    probs = exact_probs(qc)
    # The premise: a spread distribution, so that a wrong sampler would be far from it.
    assert max(probs.values()) < 0.9
    res = SamplerV2(seed=seed).run([qc], shots=20_000).result()[0]
    counts = res.data.c.get_counts()
    assert sum(counts.values()) == 20_000
    assert tvd(counts, probs) < 0.03


def test_sampler_parameterised_pub_shape_and_values():
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(2)
    qc.ry(a, 0)
    qc.ry(b, 1)
    qc.measure_all()
    values = np.linspace(0.1, 3.0, 3 * 4 * 2).reshape(3, 4, 2)
    res = SamplerV2(seed=5).run([(qc, values)], shots=4000).result()[0]
    meas = res.data.meas
    assert meas.shape == (3, 4) and meas.num_shots == 4000 and meas.num_bits == 2
    assert res.metadata["shots"] == 4000
    for idx in np.ndindex(3, 4):
        # Parameters bind in the circuit's (sorted) order: a then b.
        pa, pb = np.sin(values[idx][0] / 2) ** 2, np.sin(values[idx][1] / 2) ** 2
        probs = {
            "00": (1 - pa) * (1 - pb),
            "01": pa * (1 - pb),
            "10": (1 - pa) * pb,
            "11": pa * pb,
        }
        assert tvd(meas.get_counts(idx), probs) < 0.05


def test_sampler_several_registers_mid_circuit_measurement_reset_and_condition():
    q = QuantumRegister(3, "q")
    a = ClassicalRegister(2, "a")
    b = ClassicalRegister(1, "b")
    qc = QuantumCircuit(q, a, b)
    qc.h(0)
    qc.measure(0, a[0])
    with qc.if_test((a[0], 1)):
        qc.x(1)
    qc.reset(0)
    qc.x(0)
    qc.measure(0, a[1])
    qc.ry(2 * np.arcsin(np.sqrt(0.3)), 2)
    qc.measure(1, b[0])
    qc.measure(2, b[0])  # overwrites b[0] with qubit 2 (P(1) = 0.3)
    res = SamplerV2(seed=9).run([qc], shots=20_000).result()[0]
    assert set(res.data.keys()) == {"a", "b"}
    ca, cb = res.data.a.get_counts(), res.data.b.get_counts()
    # a[1] is always 1 (reset then x), a[0] a fair coin.
    assert set(ca) == {"10", "11"} and abs(ca["11"] / 20_000 - 0.5) < 0.02
    assert abs(cb.get("1", 0) / 20_000 - 0.3) < 0.02
    # The condition copied a[0] into qubit 1: measure it too to check.
    qc2 = qc.copy()
    c = ClassicalRegister(1, "c")
    qc2.add_register(c)
    qc2.measure(1, c[0])
    res2 = SamplerV2(seed=2).run([qc2], shots=2000).result()[0]
    joined = res2.join_data(["a", "c"]).get_bitstrings()
    assert all(s[0] == s[-1] for s in joined)


def test_sampler_seed_generator_and_default_shots():
    qc = random_circuit(4, 4, measure=True, seed=1)
    one = SamplerV2(seed=11, default_shots=300).run([qc]).result()[0].data.c
    two = SamplerV2(seed=11, default_shots=300).run([qc]).result()[0].data.c
    assert one.num_shots == 300 and one == two
    gen = SamplerV2(seed=np.random.default_rng(11))
    first = gen.run([qc], shots=300).result()[0].data.c
    second = gen.run([qc], shots=300).result()[0].data.c
    assert first != second  # a Generator advances between runs


def test_unsupported_instruction_is_named():
    qc = QuantumCircuit(1, 1)
    qc.append(Instruction("mystery", 1, 0, []), [0])
    qc.measure(0, 0)
    with pytest.raises(QiskitError, match="qep cannot run the instruction `mystery`"):
        SamplerV2().run([qc]).result()
    loop = QuantumCircuit(1, 1)
    with loop.for_loop(range(2)):
        loop.h(0)
    with pytest.raises(QiskitError, match="control-flow instruction `for_loop`"):
        SamplerV2().run([loop]).result()


def random_observable(n, terms, rng):
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(terms)]
    return SparsePauliOp(labels, rng.normal(size=terms)).simplify()


def test_estimator_exact_matches_statevector_with_broadcasting():
    rng = np.random.default_rng(4)
    thetas = [Parameter(f"t{i}") for i in range(4)]
    qc = random_circuit(5, 5, seed=8)
    for i, t in enumerate(thetas):
        qc.ry(t, i)
        qc.cx(i, i + 1)
    obs = [[random_observable(5, 12, rng)], [random_observable(5, 12, rng)]]  # shape (2, 1)
    values = rng.uniform(-np.pi, np.pi, size=(3, 4))  # shape (3,)
    res = EstimatorV2().run([(qc, obs, values)]).result()[0]
    assert res.data.evs.shape == (2, 3) and res.metadata["target_precision"] == 0
    np.testing.assert_array_equal(res.data.stds, 0)
    for i in range(2):
        for j in range(3):
            sv = Statevector(qc.assign_parameters(values[j]))
            want = sv.expectation_value(obs[i][0]).real
            assert abs(res.data.evs[i, j] - want) < 1e-10


def test_estimator_sampled_spread_stds_and_mean():
    rng = np.random.default_rng(21)
    qc = random_circuit(4, 4, seed=12)
    obs = random_observable(4, 10, rng)
    exact = Statevector(qc).expectation_value(obs).real
    p = 0.02
    evs, stds = [], []
    for seed in range(30):
        res = EstimatorV2(seed=seed).run([(qc, obs)], precision=p).result()[0]
        evs.append(float(res.data.evs))
        stds.append(float(res.data.stds))
        groups = res.metadata["shots_per_group"][()]
        assert len(groups) == len(res.metadata["measurement_bases"][()]) >= 2
    evs, stds = np.array(evs), np.array(stds)
    assert len(set(evs)) == 30  # really sampled, a different estimate per seed
    spread = evs.std(ddof=1)
    assert p / 2 < spread < 2 * p
    assert np.all((p / 2 < stds) & (stds < 2 * p))
    assert abs(evs.mean() - exact) < 5 * p / np.sqrt(30)


def test_estimator_sampling_refuses_non_hermitian():
    qc = QuantumCircuit(1)
    with pytest.raises(ValueError, match="Non-Hermitian"):
        EstimatorV2().run([(qc, SparsePauliOp("Z", 1j))], precision=0.1).result()


def test_backend_transpile_and_run():
    backend = QepBackend()
    qc = random_circuit(5, 6, max_operands=3, measure=True, seed=30)
    qc.unitary(np.array([[0, 1], [1, 0]]), [0])  # after the measurement: no effect on counts
    t = transpile(qc, backend, seed_transpiler=1)
    assert t.num_qubits == 5
    assert set(t.count_ops()) <= set(backend.target.operation_names) | {"barrier"}
    counts = backend.run(t, shots=20_000, seed_simulator=3).result().get_counts()
    assert tvd(counts, exact_probs(qc_without_tail(qc))) < 0.03


def qc_without_tail(qc):
    """The circuit up to its last measurement (the appended unitary comes after)."""
    out = qc.copy_empty_like()
    for inst in qc.data[:-1]:
        out.append(inst)
    return out


def test_run_qasm_matches_cli_json_shape():
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nmeasure q -> c;\n'
    out = qep.circuit.run_qasm(text, shots=50, seed=4, statevector=True)
    assert out["counts"] == {"01": 50}
    assert (out["qubits"], out["clbits"], out["shots"], out["seed"]) == (2, 2, 50, 4)
    np.testing.assert_allclose(out["statevector"], [0, 1, 0, 0])
    with pytest.raises(qep.CircuitError, match="unknown gate `hh`"):
        qep.circuit.run_qasm('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\nhh q[0];\n')
