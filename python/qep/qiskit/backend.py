"""``QepBackend``: qep's executor as a Qiskit ``BackendV2`` (the pre-primitives interface)."""

from __future__ import annotations

import uuid
import warnings

import numpy as np

from qiskit import QuantumCircuit
from qiskit.circuit import IfElseOp
from qiskit.circuit.library.standard_gates import get_standard_gate_name_mapping
from qiskit.providers import BackendV2, JobStatus, JobV1, Options
from qiskit.result import Result
from qiskit.transpiler import Target

from .._qep import __version__, gate_names
from .convert import to_qep_circuit

_SEED_MAX = 2**63


def _target() -> Target:
    """qep's native gates as an ideal Target without a qubit count (the transpiler then
    keeps each circuit's own width) and without couplings (every gate on every qubit)."""
    target = Target(description="qep state-vector executor", num_qubits=None)
    standard = get_standard_gate_name_mapping()
    for name, params in sorted(gate_names().items()):
        gate = standard.get(name)
        if gate is not None and len(gate.params) == params and name not in target:
            target.add_instruction(gate, properties=None, name=name)
    for name in ("measure", "reset", "delay"):
        if name not in target:
            target.add_instruction(standard[name], properties=None, name=name)
    target.add_instruction(IfElseOp, name="if_else")
    return target


class QepJob(JobV1):
    """A finished run of :class:`QepBackend` (qep runs synchronously)."""

    def __init__(self, backend, job_id: str, result: Result):
        super().__init__(backend, job_id)
        self._result = result

    def submit(self):
        """Nothing to do: the job ran when it was created."""

    def result(self, timeout=None) -> Result:
        """The counts of every circuit."""
        return self._result

    def status(self) -> JobStatus:
        """Always ``DONE``."""
        return JobStatus.DONE


class QepBackend(BackendV2):
    """qep's state-vector executor as a :class:`qiskit.providers.BackendV2`.

    ``transpile(qc, backend)`` rewrites circuits into qep's native gates (the ``target``);
    ``backend.run(circuits, shots=1024, seed_simulator=None, memory=False)`` returns a job
    whose ``result().get_counts()`` are shot counts with Qiskit's key format. Mid-circuit
    measurements, resets and ``if_test`` blocks are simulated by shot branching.
    """

    def __init__(self):
        super().__init__(name="qep", description="qep state-vector executor", backend_version=__version__)
        self._target = _target()

    @property
    def target(self) -> Target:
        """qep's native gates, measure, reset, delay and ``if_else``."""
        return self._target

    @property
    def max_circuits(self):
        """No limit on circuits per run."""
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1024, seed_simulator=None, memory=False)

    def run(self, run_input, **options) -> QepJob:
        """Samples each circuit; ``shots``, ``seed_simulator`` and ``memory`` override the
        backend's options for this run."""
        for key in options:
            if not hasattr(self.options, key):
                warnings.warn(f"Option {key} is not used by this backend", UserWarning, stacklevel=2)
        shots = int(options.get("shots", self.options.shots))
        if shots <= 0:
            raise ValueError(f"shots must be positive, got {shots}")
        seed = options.get("seed_simulator", self.options.seed_simulator)
        memory = bool(options.get("memory", self.options.memory))
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        rng = np.random.default_rng(seed)
        results = [self._run_circuit(qc, shots, rng, memory) for qc in circuits]
        job_id = str(uuid.uuid4())
        result = Result.from_dict(
            {
                "backend_name": self.name,
                "backend_version": self.backend_version,
                "job_id": job_id,
                "results": results,
                "status": "COMPLETED",
                "success": True,
            }
        )
        return QepJob(self, job_id, result)

    def _run_circuit(self, qc: QuantumCircuit, shots: int, rng, memory: bool) -> dict:
        if qc.num_parameters:
            raise ValueError(
                f"circuit `{qc.name}` has unbound parameters {sorted(p.name for p in qc.parameters)}"
            )
        circuit = to_qep_circuit(qc)
        seed = int(rng.integers(_SEED_MAX))
        if circuit.num_clbits and circuit.has_measurements:
            raw = circuit.sample(shots, seed)
            counts = {hex(int(k, 2)): v for k, v in raw.items()}
        else:
            counts = {"0x0": shots}
        data = {"counts": counts}
        if memory:
            keys = np.repeat(list(counts), list(counts.values()))
            rng.shuffle(keys)
            data["memory"] = keys.tolist()
        header = {
            "name": qc.name,
            "n_qubits": qc.num_qubits,
            "qreg_sizes": [[r.name, r.size] for r in qc.qregs],
            "creg_sizes": [[r.name, r.size] for r in qc.cregs],
            "memory_slots": qc.num_clbits,
            "global_phase": float(qc.global_phase),
            "metadata": qc.metadata if qc.metadata is not None else {},
        }
        return {
            "shots": shots,
            "success": True,
            "data": data,
            "header": header,
            "seed_simulator": seed,
            "status": "DONE",
        }
