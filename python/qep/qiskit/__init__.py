"""Qiskit primitives on qep's executor (needs ``qiskit >= 2.0``).

* :class:`SamplerV2` — a :class:`qiskit.primitives.BaseSamplerV2`: PUBs of circuits with
  parameter-value arrays, results as ``BitArray``s per classical register;
* :class:`EstimatorV2` — a :class:`qiskit.primitives.BaseEstimatorV2`: exact expectation
  values at ``precision=0``, and at ``precision=p > 0`` estimates really sampled by
  qubit-wise commuting groups with standard error at most ``p``;
* :class:`QepBackend` — a :class:`qiskit.providers.BackendV2` whose ``Target`` lists qep's
  native gates, for ``transpile(qc, backend)`` and ``backend.run(qc, shots=...)``;
* :func:`to_qep_circuit` — a ``QuantumCircuit`` as a :class:`qep.circuit.Circuit` (qep's op
  list, built from the instruction list: no OpenQASM text in between).

Example::

    from qiskit import QuantumCircuit
    from qep.qiskit import SamplerV2
    qc = QuantumCircuit(2)
    qc.h(0); qc.cx(0, 1); qc.measure_all()
    counts = SamplerV2(seed=1).run([qc], shots=1000).result()[0].data.meas.get_counts()
"""

from .convert import to_qep_circuit
from .sampler import SamplerV2
from .estimator import EstimatorV2
from .backend import QepBackend

__all__ = ["EstimatorV2", "QepBackend", "SamplerV2", "to_qep_circuit"]
