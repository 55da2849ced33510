from ._qep import Circuit as Circuit, gate_names as gate_names, run_qasm as run_qasm

__all__ = ["Circuit", "gate_names", "run_qasm"]
