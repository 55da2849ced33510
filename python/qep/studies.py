"""The CLI's studies as functions returning dictionaries (``qep plateau``, ``qep shots``,
``qep prepare``, ``qep thermalize``).

Each returns a :class:`StudyResult`: the dict the command's ``--json`` prints (same keys,
same numbers; every list of numbers a numpy array) with a :meth:`StudyResult.to_pandas`
that gives the study's table as a ``pandas.DataFrame`` (pandas is optional and imported
only then). Models are :class:`qep.Model` objects or paths to model files.
"""

import os

from . import _qep
from ._qep import Model, Operator

__all__ = ["StudyResult", "plateau", "shots_study", "prepare", "thermalize"]


class StudyResult(dict):
    """A study's result: the command's JSON object as a dict, plus :meth:`to_pandas`.

    ``table`` names the key whose rows :meth:`to_pandas` turns into a DataFrame (dotted for
    a nested key: ``"path.points"``).
    """

    def __init__(self, data, table):
        super().__init__(data)
        self.table = table

    def to_pandas(self):
        """The study's table (the list at ``self.table``, one row per entry; nested dicts
        become ``a.b`` columns) as a ``pandas.DataFrame``. Needs pandas."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError(
                "to_pandas() needs pandas, which is not installed; pip install pandas "
                f"(the result itself is a dict: its table is result[{self.table!r}])"
            ) from e
        rows = self
        for key in self.table.split("."):
            rows = rows.get(key) if isinstance(rows, dict) else None
        if rows is None:
            raise ValueError(f"this result has no table {self.table!r}")
        return pandas.json_normalize(list(rows))

    def __repr__(self):
        return f"StudyResult(table={self.table!r}, {dict.__repr__(self)})"


def _model(m, what="model"):
    """A :class:`Model` from a Model or a path to a model file."""
    if isinstance(m, Model):
        return m
    if isinstance(m, (str, os.PathLike)):
        return Model.from_yaml(m)
    raise TypeError(f"{what}: expected a qep.Model or a path to a model file, got {type(m).__name__}")


def _sizes(sizes):
    """``"A..B"``, ``"A..B:STEP"``, ``"a,b,c"`` (the CLI's ``--sizes``) or a sequence."""
    if not isinstance(sizes, str):
        return [int(n) for n in sizes]
    bad = ValueError(f"sizes {sizes!r}: expected A..B, A..B:STEP or a list like 4,6,8")
    try:
        if ".." in sizes:
            a, rest = sizes.split("..", 1)
            b, _, step = rest.partition(":")
            a, b, step = int(a), int(b), int(step or 1)
            if step <= 0 or b < a:
                raise bad
            return list(range(a, b + 1, step))
        return [int(x) for x in sizes.split(",")]
    except ValueError:
        raise bad from None


def plateau(
    model=None,
    *,
    family="chain",
    sizes="4..10",
    samples=100,
    init_range=1.0,
    shots=None,
    beta=0.05,
    seed=0,
):
    """Barren plateaus: the variance of ``∂⟨C⟩/∂θ_k`` over ``samples`` random coupling
    draws (uniform in ``[−init_range, init_range]``) for each number of qubits in ``sizes``,
    fitted as ``Var ∝ exp(−r N)`` — what ``qep plateau --json`` prints: ``sizes``,
    ``variance``, ``decay_rate`` ± ``decay_rate_err``, ``decay_rate_xx``/``_zz``, the median
    fit, ``per_size`` (the table), ``seconds``, ``provenance``.

    ``family`` is ``"chain"``, ``"grid"`` or ``"all-to-all"``, or taken from ``model``'s
    ``lattice``; ``shots`` also estimates each draw's gradient by EP from that many shots
    (at ``beta``). Ctrl-C stops after the current draw (KeyboardInterrupt).
    """
    m = None if model is None else _model(model)
    data = _qep.plateau(
        m,
        family=family,
        sizes=_sizes(sizes),
        samples=samples,
        init_range=init_range,
        shots=shots,
        beta=beta,
        seed=seed,
    )
    return StudyResult(data, "per_size")


def shots_study(
    model,
    *,
    shots=(100, 1000, 10_000, 100_000),
    betas=(0.02, 0.05, 0.1, 0.2),
    repeats=20,
    example=0,
    seed=0,
):
    """Shot noise against clamping bias of shot-based EP on one training example: for each
    budget in ``shots`` (per commuting group and state) and each β in ``betas``, the RMS
    error of ``repeats`` seeded gradients against the exact one, split into bias and noise —
    what ``qep shots --json`` prints: ``cells`` (the table), ``bias_coefficient``,
    ``noise_coefficient``, ``optimal_beta``, ``provenance``. Uses the model's current theta.
    Ctrl-C stops after the current gradient (KeyboardInterrupt).
    """
    data = _qep.shots_study(
        _model(model),
        shots=[int(s) for s in shots],
        betas=[float(b) for b in betas],
        repeats=repeats,
        example=example,
        seed=seed,
    )
    return StudyResult(data, "cells")


def _operator_model(op):
    """A model without inputs whose Hamiltonian is ``op`` (real coefficients)."""
    terms = []
    for label, c in op.terms:
        c = complex(c)
        if abs(c.imag) > 1e-12 * max(1.0, abs(c.real)):
            raise ValueError(
                f"prepare: the term {label or 'I'} has the complex coefficient {c}; "
                "a Hamiltonian needs real coefficients"
            )
        if label:
            terms.append({"pauli": label, "coeff": c.real})
    return Model.from_dict({"name": "operator", "qubits": op.num_qubits, "terms": terms})


def prepare(
    model_or_operator,
    *,
    time=None,
    times=None,
    schedule=None,
    start=None,
    method="magnus",
    trotter_order=2,
    steps=None,
    eigen=0,
    gap_points=21,
    krylov_tol=1e-10,
    krylov_dim=30,
    example=None,
):
    """Adiabatic preparation of an eigenstate (``eigen``, 0 = ground) of a model's
    Hamiltonian (with the inputs of training example ``example``) or of an
    :class:`Operator`, sweeping from ``−Σ X_i`` (or from the model ``start``), verified
    against the exact eigenstate — what ``qep prepare --json`` prints.

    ``time`` is one sweep time T (top-level ``fidelity``, ``energy``, …), ``times`` several
    (``runs``, the table, and ``infidelity_slope``; for one sweep the table is the gaps along
    the path, ``path.points``); ``schedule`` is ``"linear"``,
    ``"smooth"`` or ``"local"`` (default: the model's); ``method`` ``"magnus"``, ``"krylov"``
    or ``"trotter"``; ``gap_points`` samples the gap along the path (``path``). Ctrl-C stops
    between sweeps of ``times``.
    """
    if isinstance(model_or_operator, Operator):
        m = _operator_model(model_or_operator)
    else:
        m = _model(model_or_operator, "model_or_operator")
    data = _qep.prepare(
        m,
        time=time,
        times=None if times is None else [float(t) for t in times],
        schedule=schedule,
        start=None if start is None else _model(start, "start"),
        method=method,
        trotter_order=trotter_order,
        steps=steps,
        eigen=eigen,
        gap_points=gap_points,
        krylov_tol=krylov_tol,
        krylov_dim=krylov_dim,
        example=example,
    )
    return StudyResult(data, "runs" if "runs" in data else "path.points")


def thermalize(
    model,
    temperature=None,
    *,
    method="cooling",
    steps=30,
    observe=(),
    initial="mixed",
    coupling=0.02,
    duration=100.0,
    ancillas=2,
    rate=1.0,
    dt=None,
    trajectories=200,
    seed=0,
):
    """Prepares the Gibbs state at ``temperature`` (default: the model's ``temperature:``)
    by collisional cooling (``method="cooling"``: ``coupling``, ``duration``,
    ``ancillas``), Davies dynamics (``"davies"``: ``rate``, ``dt``) or cooling trajectories
    (``"trajectories"``: ``trajectories``, ``seed``) over ``steps`` steps from ``initial``
    (``"mixed"``, ``"plus"``, ``"zero"``, ``"basis:B"``), and measures how close it gets —
    what ``qep thermalize --json`` prints: ``trace`` (the table: trace distance, ⟨H⟩, ⟨C⟩
    per step), ``trace_distance``, ``energy``, ``gibbs``, ``observables`` (the Pauli labels
    of ``observe``), ``provenance``.
    """
    data = _qep.thermalize(
        _model(model),
        temperature,
        method=method,
        steps=steps,
        observe=list(observe),
        initial=initial,
        coupling=coupling,
        duration=duration,
        ancillas=ancillas,
        rate=rate,
        dt=dt,
        trajectories=trajectories,
        seed=seed,
    )
    return StudyResult(data, "trace")
