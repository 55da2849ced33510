"""``SamplerV2``: Qiskit's V2 sampler primitive on qep's executor."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np

from qiskit.primitives import BaseSamplerV2
from qiskit.primitives.containers import BitArray, DataBin, PrimitiveResult, SamplerPubResult
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.primitives.primitive_job import PrimitiveJob

from .convert import to_qep_circuit

#: Largest seed handed to the executor.
_SEED_MAX = 2**63


def _creg_columns(circuit):
    """Per classical register: its name, size and the flat clbit index of each of its bits."""
    return [
        (creg.name, creg.size, [circuit.find_bit(b).index for b in creg]) for creg in circuit.cregs
    ]


def _packed(bits: np.ndarray, columns: list[int], num_bits: int) -> np.ndarray:
    """Shots × clbits 0/1 array → BitArray bytes of one register: clbit 0 of the register is
    the least significant bit of the last byte (big-endian packing, as Qiskit)."""
    sub = bits[:, columns[::-1]] if columns else np.zeros((bits.shape[0], 0), dtype=np.uint8)
    pad = -num_bits % 8
    if pad:
        sub = np.pad(sub, ((0, 0), (pad, 0)), constant_values=0)
    return np.packbits(sub, axis=-1)


def sample_bits(circuit, shots: int, rng: np.random.Generator) -> np.ndarray:
    """``shots`` outcomes of a qep circuit as a shots × clbits array of 0/1 (column j is clbit
    j), in a random shot order."""
    n = circuit.num_clbits
    if n == 0:
        return np.zeros((shots, 0), dtype=np.uint8)
    if not circuit.has_measurements:
        return np.zeros((shots, n), dtype=np.uint8)
    counts = circuit.sample(shots, int(rng.integers(_SEED_MAX)))
    keys = list(counts)
    table = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(len(keys), n)
    table = (table[:, ::-1] - ord("0")).astype(np.uint8)
    index = np.repeat(np.arange(len(keys)), [counts[k] for k in keys])
    rng.shuffle(index)
    return table[index]


class SamplerV2(BaseSamplerV2):
    """Qiskit's V2 sampler (:class:`qiskit.primitives.BaseSamplerV2`) on qep's executor.

    Each PUB ``(circuit, parameter_values, shots)`` is broadcast as Qiskit specifies; every
    parameter binding is converted to qep's op list (no OpenQASM in between) and sampled;
    mid-circuit measurements, resets and ``if_test`` blocks run on qep's shot-branching
    executor. The result's ``data`` holds one ``BitArray`` per classical register, of the
    PUB's shape.

    Args:
        default_shots: shots of a PUB that does not say (and of ``run`` without ``shots``).
        seed: an int or a ``numpy.random.Generator`` for reproducible samples; ``None``
            draws fresh randomness.
    """

    def __init__(self, *, default_shots: int = 1024, seed: np.random.Generator | int | None = None):
        self._default_shots = default_shots
        self._seed = seed

    @property
    def default_shots(self) -> int:
        """The shots of a PUB that gives none."""
        return self._default_shots

    @property
    def seed(self) -> np.random.Generator | int | None:
        """The seed or generator the samples are drawn from."""
        return self._seed

    def run(
        self, pubs: Iterable, *, shots: int | None = None
    ) -> PrimitiveJob[PrimitiveResult[SamplerPubResult]]:
        """Samples each PUB; ``shots`` overrides the default for PUBs that give none."""
        if shots is None:
            shots = self._default_shots
        coerced = [SamplerPub.coerce(pub, shots) for pub in pubs]
        if any(len(pub.circuit.cregs) == 0 for pub in coerced):
            warnings.warn(
                "One of your circuits has no output classical registers and so the result "
                "will be empty. Did you mean to add measurement instructions?",
                UserWarning,
            )
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[SamplerPub]) -> PrimitiveResult[SamplerPubResult]:
        return PrimitiveResult([self._run_pub(pub) for pub in pubs], metadata={"version": 2})

    def _run_pub(self, pub: SamplerPub) -> SamplerPubResult:
        rng = np.random.default_rng(self._seed)
        circuit = pub.circuit
        regs = _creg_columns(circuit)
        bound = pub.parameter_values.bind_all(circuit)
        arrays = {
            name: np.zeros(bound.shape + (pub.shots, (size + 7) // 8), dtype=np.uint8)
            for name, size, _ in regs
        }
        for index, bound_circuit in np.ndenumerate(bound):
            bits = sample_bits(to_qep_circuit(bound_circuit), pub.shots, rng)
            for name, size, columns in regs:
                arrays[name][index] = _packed(bits, columns, size)
        meas = {name: BitArray(arrays[name], size) for name, size, _ in regs}
        return SamplerPubResult(
            DataBin(**meas, shape=pub.shape),
            metadata={"shots": pub.shots, "circuit_metadata": circuit.metadata},
        )
