"""Type stubs of ``qep.studies``: the CLI's studies as functions."""

from os import PathLike
from typing import Any, Sequence

from ._qep import Model, Operator

_ModelLike = Model | str | PathLike[str]

class StudyResult(dict[str, Any]):
    """A study's result: the command's JSON object as a dict, plus ``to_pandas()``."""

    table: str
    def __init__(self, data: dict[str, Any], table: str) -> None: ...
    def to_pandas(self) -> Any:
        """The study's table as a ``pandas.DataFrame`` (needs pandas)."""

def plateau(
    model: _ModelLike | None = None,
    *,
    family: str = "chain",
    sizes: str | Sequence[int] = "4..10",
    samples: int = 100,
    init_range: float = 1.0,
    shots: int | None = None,
    beta: float = 0.05,
    seed: int = 0,
) -> StudyResult:
    """Gradient variance against qubit count, as ``qep plateau --json``."""

def shots_study(
    model: _ModelLike,
    *,
    shots: Sequence[int] = (100, 1000, 10_000, 100_000),
    betas: Sequence[float] = (0.02, 0.05, 0.1, 0.2),
    repeats: int = 20,
    example: int = 0,
    seed: int = 0,
) -> StudyResult:
    """Shot noise against clamping bias, as ``qep shots --json``."""

def prepare(
    model_or_operator: _ModelLike | Operator,
    *,
    time: float | None = None,
    times: Sequence[float] | None = None,
    schedule: str | None = None,
    start: _ModelLike | None = None,
    method: str = "magnus",
    trotter_order: int = 2,
    steps: int | None = None,
    eigen: int = 0,
    gap_points: int = 21,
    krylov_tol: float = 1e-10,
    krylov_dim: int = 30,
    example: int | None = None,
) -> StudyResult:
    """Adiabatic state preparation, as ``qep prepare --json``."""

def thermalize(
    model: _ModelLike,
    temperature: float | None = None,
    *,
    method: str = "cooling",
    steps: int = 30,
    observe: Sequence[str] = (),
    initial: str = "mixed",
    coupling: float = 0.02,
    duration: float = 100.0,
    ancillas: int = 2,
    rate: float = 1.0,
    dt: float | None = None,
    trajectories: int = 200,
    seed: int = 0,
) -> StudyResult:
    """Gibbs-state preparation, as ``qep thermalize --json``."""
