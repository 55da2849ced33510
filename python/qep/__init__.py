"""qep — quantum equilibrium propagation, from Python.

A quantum neural network is a Hamiltonian ``H(β, θ, u, d)``; its ground state computes the
answer and equilibrium propagation trains its couplings θ. qep compiles such Hamiltonians
(YAML models) to sparse Pauli operators, applies them matrix-free, finds their eigenstates by
Lanczos (every eigenpair carries its residual) and runs gate circuits. This package is a thin
layer over the Rust library: the numbers are computed there, with the GIL released.

Conventions: qubit ``i`` is bit ``i`` of the basis index (as in Qiskit), ``Z|0⟩ = |0⟩``;
Pauli strings are written ``"X0 Z3"`` (sparse) — ``Operator.from_sparse_pauli_op`` reads
Qiskit's labels (qubit 0 rightmost).

Main names:

* :class:`Operator` — ``from_terms``, ``from_sparse_pauli_op``, ``apply``, ``expectation``,
  ``spectrum`` (→ :class:`Spectrum`), ``to_scipy``, ``to_sparse_pauli_op``;
* :class:`Model` — ``from_yaml``, ``from_dict``, ``params``, ``theta``, ``hamiltonian``;
* :mod:`qep.circuit` — ``run_qasm`` and :class:`~qep.circuit.Circuit`;
* :mod:`qep.qiskit` — ``SamplerV2``, ``EstimatorV2``, ``QepBackend`` (needs qiskit ≥ 2.0);
* errors: :class:`QepError` and its subclasses :class:`ModelError` (with ``file``, ``line``,
  ``column``, ``key``), :class:`NotConvergedError`, :class:`MemoryLimitError`,
  :class:`CircuitError`.

Example::

    import qep
    model = qep.Model.from_yaml("hamiltonians/xor.yaml")
    h = model.hamiltonian(inputs=[3, -3])
    spec = h.spectrum(k=2)
    print(spec.energies, spec.gap, spec.residuals)
"""

from ._qep import (
    CircuitError,
    MemoryLimitError,
    Model,
    ModelError,
    NotConvergedError,
    Operator,
    QepError,
    Spectrum,
    __version__,
)
from . import circuit

__all__ = [
    "CircuitError",
    "MemoryLimitError",
    "Model",
    "ModelError",
    "NotConvergedError",
    "Operator",
    "QepError",
    "Spectrum",
    "circuit",
    "__version__",
]
