"""Type stubs of the extension module ``qep._qep`` (the Rust bindings)."""

from os import PathLike
from typing import Any, Mapping, Sequence

import numpy as np
import numpy.typing as npt

__version__: str

class QepError(Exception):
    """Base class of every error qep raises; the message is the one the ``qep`` CLI prints."""

class ModelError(QepError):
    """A model file or dictionary that does not fit the schema, or arguments that do not fit
    the model. ``file``, ``line``, ``column`` and ``key`` locate the problem (None when the
    error is not about a place in a file)."""

    file: str | None
    line: int | None
    column: int | None
    key: str | None

class NotConvergedError(QepError):
    """An eigensolver that did not reach its tolerance within its budget, or whose result
    failed its residual check."""

class MemoryLimitError(QepError):
    """The buffers a computation needs do not fit in the memory available (or in
    ``QEP_MEMORY_LIMIT``); raised before anything is allocated."""

class CircuitError(QepError):
    """An OpenQASM program or a circuit that qep cannot parse or run."""

class Spectrum:
    """The lowest eigenpairs of an operator with their evidence (``Operator.spectrum``)."""

    @property
    def energies(self) -> npt.NDArray[np.float64]:
        """Energies, ascending, with multiplicity (length k)."""
    @property
    def states(self) -> npt.NDArray[np.complex128]:
        """Normalised eigenvectors as columns, shape ``(2**n, k)``."""
    @property
    def residuals(self) -> npt.NDArray[np.float64]:
        """``‖Hψ − Eψ‖`` per level."""
    @property
    def gap(self) -> float | None:
        """``E_1 − E_0`` (None for a one-dimensional space)."""
    @property
    def next_energy(self) -> float | None:
        """The level just above the k wanted ones."""
    @property
    def matvecs(self) -> int:
        """Operator applications used."""
    @property
    def method(self) -> str:
        """``"dense"``, ``"lanczos"`` or ``"lanczos-two-pass"``."""

class Operator:
    """A linear combination of Pauli strings on ``num_qubits`` qubits (qubit i = bit i of
    the basis index, as in Qiskit), applied matrix-free."""

    @staticmethod
    def from_terms(terms: Sequence[tuple[str, complex]], num_qubits: int) -> Operator:
        """``Σ c_t P_t`` from ``(pauli, coefficient)`` pairs in qep's sparse syntax
        (``"X0 Z3"``; ``""`` is the identity)."""
    @staticmethod
    def from_sparse_pauli_op(op: Any) -> Operator:
        """The operator of a Qiskit ``SparsePauliOp`` (Qiskit's label order)."""
    def to_sparse_pauli_op(self) -> Any:
        """The operator as a Qiskit ``SparsePauliOp``."""
    @property
    def num_qubits(self) -> int:
        """Number of qubits n."""
    @property
    def num_terms(self) -> int:
        """Number of stored terms."""
    @property
    def terms(self) -> list[tuple[str, complex]]:
        """The terms as ``(label, coefficient)`` in qep's sparse syntax."""
    @property
    def is_hermitian(self) -> bool:
        """Whether every coefficient is real."""
    def apply(self, psi: npt.ArrayLike) -> npt.NDArray[np.complex128]:
        """``H ψ`` as a new array (a contiguous complex128 ``psi`` is read in place)."""
    def expectation(self, psi: npt.ArrayLike) -> float | complex:
        """``⟨ψ|H|ψ⟩`` (not normalised): float for a Hermitian operator."""
    def spectrum(
        self, k: int = 1, tol: float = 1e-9, max_matvecs: int = 20000, seed: int = 2654435769
    ) -> Spectrum:
        """The k lowest eigenpairs, each with ``‖Hψ − Eψ‖ ≤ tol``, and the gap above."""
    def to_scipy(self) -> Any:
        """The operator as a ``scipy.sparse.csr_matrix`` (at most 20 qubits)."""

class Model:
    """A quantum neural network ``H(β, θ, u, d)`` (Eq. 16) from a YAML model."""

    @staticmethod
    def from_yaml(path: str | PathLike[str]) -> Model:
        """Loads a model file; raises ModelError with file, line, column and key."""
    @staticmethod
    def from_yaml_text(text: str, path: str | PathLike[str] | None = None) -> Model:
        """Parses a model from YAML or JSON text."""
    @staticmethod
    def from_dict(d: Mapping[str, Any], path: str | PathLike[str] | None = None) -> Model:
        """A model from a dictionary with the YAML schema's keys."""
    @property
    def name(self) -> str:
        """The model's name."""
    @property
    def num_qubits(self) -> int:
        """Number of qubits N."""
    @property
    def params(self) -> list[str]:
        """Labels of the trainable terms P_k, in the order of ``theta``."""
    @property
    def parameters(self) -> list[dict[str, Any]]:
        """One dict per θ_k: ``label``, ``paulis``, ``coeffs``, ``family``, ``value``."""
    @property
    def theta(self) -> npt.NDArray[np.float64]:
        """Current parameter values θ_k (a copy; assign to change)."""
    @theta.setter
    def theta(self, value: npt.ArrayLike) -> None: ...
    @property
    def inputs(self) -> list[int]:
        """Input qubits (fields u_i Z_i)."""
    @property
    def outputs(self) -> list[int]:
        """Output qubits (cost and clamp)."""
    @property
    def train_examples(self) -> list[tuple[list[float], list[float]]]:
        """Training examples as ``(inputs, targets)``."""
    @property
    def test_examples(self) -> list[tuple[list[float], list[float]]]:
        """Held-out examples as ``(inputs, targets)``."""
    def hamiltonian(
        self,
        inputs: npt.ArrayLike | None = None,
        beta: float = 0.0,
        targets: npt.ArrayLike | None = None,
    ) -> Operator:
        """``H(β, θ, u, d)`` at the current θ as an Operator."""
    def grad(
        self,
        example: int | tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
        beta: float | None = None,
        shots: int | None = None,
        seed: int | None = None,
        temperature: float | None = None,
        exact: bool = True,
        *,
        one_sided: bool = False,
        level: int | None = None,
        samples: int = 8,
        prep_times: Sequence[float] | None = None,
    ) -> dict[str, Any]:
        """The EP gradient of one example (index, default 0, or ``(inputs, targets)``) at the
        current θ: the dict ``qep grad --json`` prints (``engine``, ``params``, ``ep``,
        ``exact``, ``ep_std``, ``cosine``, …, ``provenance``; numpy arrays for vectors)."""
    def train(
        self,
        epochs: int | None = None,
        out: str | PathLike[str] | None = None,
        resume: bool = False,
        progress: bool = True,
        *,
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """Trains θ in place as ``qep run`` does; returns the ``qep run --json`` summary plus
        ``theta`` and ``history`` (per-epoch metrics as numpy columns). ``out`` writes the
        run folder, ``resume`` continues it; Ctrl-C stops at a mini-batch boundary."""

class Circuit:
    """A circuit in qep's op list form (qubit i = bit i; clbit 0 printed rightmost)."""

    def __init__(
        self,
        num_qubits: int,
        num_clbits: int,
        instructions: Sequence[
            tuple[str, Sequence[int], Sequence[int], Sequence[float], tuple[int, int, int] | None]
        ],
    ) -> None:
        """A circuit from ``(name, qubits, clbits, params, condition)`` tuples."""
    @staticmethod
    def from_qasm(text: str) -> Circuit:
        """Parses OpenQASM 2 or 3."""
    @property
    def num_qubits(self) -> int:
        """Number of qubits."""
    @property
    def num_clbits(self) -> int:
        """Number of classical bits."""
    @property
    def num_ops(self) -> int:
        """Number of operations."""
    @property
    def has_measurements(self) -> bool:
        """Whether the circuit measures anything."""
    @property
    def measurements_are_final(self) -> bool:
        """Whether all shots can be drawn from one final state."""
    def sample(self, shots: int, seed: int = 0) -> dict[str, int]:
        """Shot counts ``{bitstring: count}``."""
    def statevector(self, seed: int = 0) -> npt.NDArray[np.complex128]:
        """The final state (before final measurements)."""
    def probabilities(self) -> dict[str, float]:
        """The exact distribution of the counts keys."""
    def to_qasm(self) -> str:
        """The circuit as OpenQASM 2 text."""

def run_qasm(
    text: str, shots: int = 1024, seed: int = 0, statevector: bool = False
) -> dict[str, Any]:
    """Runs an OpenQASM program like ``qep circuit run --json``."""

def plateau(
    model: Model | None = None,
    *,
    family: str = "chain",
    sizes: Sequence[int] = ...,
    samples: int = 100,
    init_range: float = 1.0,
    shots: int | None = None,
    beta: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """The barren-plateau scan, as ``qep plateau --json`` (see ``qep.plateau``)."""

def shots_study(
    model: Model,
    *,
    shots: Sequence[int] = ...,
    betas: Sequence[float] = ...,
    repeats: int = 20,
    example: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """The shot-noise study, as ``qep shots --json`` (see ``qep.shots_study``)."""

def prepare(
    model: Model,
    *,
    time: float | None = None,
    times: Sequence[float] | None = None,
    schedule: str | None = None,
    start: Model | None = None,
    method: str = "magnus",
    trotter_order: int = 2,
    steps: int | None = None,
    eigen: int = 0,
    gap_points: int = 21,
    krylov_tol: float = 1e-10,
    krylov_dim: int = 30,
    example: int | None = None,
) -> dict[str, Any]:
    """The state-preparation study, as ``qep prepare --json`` (see ``qep.prepare``)."""

def thermalize(
    model: Model,
    temperature: float | None = None,
    *,
    method: str = "cooling",
    steps: int = 30,
    observe: Sequence[str] = ...,
    initial: str = "mixed",
    coupling: float = 0.02,
    duration: float = 100.0,
    ancillas: int = 2,
    rate: float = 1.0,
    dt: float | None = None,
    trajectories: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Gibbs-state preparation, as ``qep thermalize --json`` (see ``qep.thermalize``)."""

def gate_names() -> dict[str, int]:
    """qep's gate names with their parameter counts."""

def estimate_expectation(
    psi: npt.ArrayLike, op: Operator, precision: float, seed: int = 0
) -> dict[str, Any]:
    """Sampled ``⟨O⟩`` with standard error ≤ precision: ``ev``, ``std``, ``shots``, ``bases``."""
