"""``EstimatorV2``: Qiskit's V2 estimator primitive on qep's executor and operators."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from qiskit.primitives import BaseEstimatorV2
from qiskit.primitives.containers import DataBin, PrimitiveResult, PubResult
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.primitive_job import PrimitiveJob
from qiskit.quantum_info import SparsePauliOp

from .._qep import Operator, estimate_expectation
from .convert import to_qep_circuit

_SEED_MAX = 2**63
_PAULI = frozenset("IXYZ")


def _operator(observable: dict, num_qubits: int) -> Operator:
    """An ObservablesArray element (``{label: coefficient}``, Qiskit's labels) as an Operator."""
    if all(_PAULI.issuperset(label) for label in observable):
        # Qiskit's labels put qubit 0 rightmost; qep's dense labels put it leftmost.
        return Operator.from_terms([(label[::-1], c) for label, c in observable.items()], num_qubits)
    from qiskit.quantum_info import SparseObservable

    sparse = SparseObservable.from_list(list(observable.items()), num_qubits=num_qubits)
    return Operator.from_sparse_pauli_op(SparsePauliOp.from_sparse_observable(sparse))


class EstimatorV2(BaseEstimatorV2):
    """Qiskit's V2 estimator (:class:`qiskit.primitives.BaseEstimatorV2`) on qep.

    Each PUB ``(circuit, observables, parameter_values, precision)`` is broadcast as Qiskit
    specifies. At ``precision == 0`` ``evs`` are exact expectation values of the final state
    (``stds`` 0). At ``precision = p > 0`` they are really sampled: the observable's terms are
    split into qubit-wise commuting groups (qep's EP grouping), shots are allocated across the
    groups by their variances so that the standard error is at most ``p``, and ``evs`` and
    ``stds`` are the sample mean and its standard error. ``metadata`` gives
    ``target_precision``, ``circuit_metadata`` and, when sampling, ``shots_per_group`` and
    ``measurement_bases`` (one list per element of the PUB's shape).

    Circuits with mid-circuit measurements or resets are run once per element, their draws
    seeded from ``seed``.

    Args:
        default_precision: precision of a PUB that gives none (and of ``run`` without one).
        seed: an int or a ``numpy.random.Generator``; ``None`` draws fresh randomness.
    """

    def __init__(
        self, *, default_precision: float = 0.0, seed: np.random.Generator | int | None = None
    ):
        self._default_precision = default_precision
        self._seed = seed

    @property
    def default_precision(self) -> float:
        """The precision of a PUB that gives none."""
        return self._default_precision

    @property
    def seed(self) -> np.random.Generator | int | None:
        """The seed or generator the samples are drawn from."""
        return self._seed

    def run(
        self, pubs: Iterable, *, precision: float | None = None
    ) -> PrimitiveJob[PrimitiveResult[PubResult]]:
        """Estimates each PUB; ``precision`` overrides the default for PUBs that give none."""
        if precision is None:
            precision = self._default_precision
        coerced = [EstimatorPub.coerce(pub, precision) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult[PubResult]:
        return PrimitiveResult([self._run_pub(pub) for pub in pubs], metadata={"version": 2})

    def _run_pub(self, pub: EstimatorPub) -> PubResult:
        rng = np.random.default_rng(self._seed)
        circuit = pub.circuit
        n = circuit.num_qubits
        precision = pub.precision
        bound = pub.parameter_values.bind_all(circuit)
        observables = np.asarray(pub.observables)
        shape = np.broadcast_shapes(bound.shape, observables.shape)
        circ_index = np.broadcast_to(np.arange(bound.size).reshape(bound.shape), shape)
        obs_index = np.broadcast_to(np.arange(observables.size).reshape(observables.shape), shape)
        flat_obs = observables.reshape(-1)
        flat_bound = bound.reshape(-1)
        qep_circuits: dict[int, object] = {}
        states: dict[int, np.ndarray] = {}
        operators: dict[int, Operator] = {}
        evs = np.zeros(shape, dtype=np.float64)
        stds = np.zeros(shape, dtype=np.float64)
        shots = np.empty(shape, dtype=object)
        bases = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            ci, oi = int(circ_index[index]), int(obs_index[index])
            qc = qep_circuits.get(ci)
            if qc is None:
                qc = qep_circuits[ci] = to_qep_circuit(flat_bound[ci])
            if ci in states:
                psi = states[ci]
            else:
                # Measurements and resets inside the circuit make its state random: a fresh
                # run per element; otherwise one state per binding.
                seed = int(rng.integers(_SEED_MAX))
                psi = qc.statevector(seed)
                if qc.measurements_are_final:
                    states[ci] = psi
            op = operators.get(oi)
            if op is None:
                op = operators[oi] = _operator(flat_obs[oi], n)
            if precision == 0:
                ev = op.expectation(psi)
                evs[index] = float(np.real(ev))
            else:
                if not op.is_hermitian:
                    raise ValueError("Given operator is not Hermitian and noise cannot be added.")
                est = estimate_expectation(psi, op, precision, int(rng.integers(_SEED_MAX)))
                evs[index] = est["ev"]
                stds[index] = est["std"]
                shots[index] = est["shots"]
                bases[index] = est["bases"]
        metadata = {"target_precision": precision, "circuit_metadata": circuit.metadata}
        if precision != 0:
            metadata["shots_per_group"] = shots
            metadata["measurement_bases"] = bases
        return PubResult(DataBin(evs=evs, stds=stds, shape=evs.shape), metadata=metadata)

