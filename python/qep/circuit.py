"""Gate circuits on qep's executor: OpenQASM 2 or 3 text (:func:`run_qasm`) or a
:class:`Circuit` (qep's op list; from Qiskit, build one with
:func:`qep.qiskit.to_qep_circuit`).

Bitstrings put classical bit 0 rightmost, as Qiskit does; several classical registers are
separated by a space, the last declared leftmost.
"""

from ._qep import Circuit, gate_names, run_qasm

__all__ = ["Circuit", "gate_names", "run_qasm"]
