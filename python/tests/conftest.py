"""Shared fixtures of the Python tests: paths into the repository, the CLI binary, and the
comparison of a Python result with the CLI's ``--json``."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

# Keys whose values are wall times or depend on when and where a result was made.
VOLATILE = {"seconds", "wall_seconds", "seconds_per_example", "unix_time", "threads"}


@pytest.fixture
def repo():
    """The repository root (models are in ``hamiltonians/``)."""
    return REPO


def cli_binary():
    """The release binary ``qep`` that ``cargo build --release`` (or ``cargo test
    --release``, which ``./test.sh`` runs first) leaves in the target folder."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    exe = target / "release" / "qep"
    if not exe.is_file():
        pytest.fail(f"{exe} is missing: run `cargo build --release` at {REPO} first")
    return exe


@pytest.fixture
def cli():
    """Runs ``qep ARGS... --json`` in the repository and returns the parsed JSON."""

    def run(*args):
        out = subprocess.run(
            [str(cli_binary()), *map(str, args), "--json"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    return run


def assert_same(py, want, path="", tol=1e-12):
    """``py`` (a Python result: dicts, numpy arrays, numbers) has exactly the keys of ``want``
    (the CLI's parsed JSON) at every level, and the same values: numbers to ``tol``
    relative (absolute below 1), strings and None equal. Wall times are not compared."""
    if isinstance(want, dict):
        assert isinstance(py, dict), f"{path}: expected a dict, got {type(py).__name__}"
        assert set(py) == set(want), (
            f"{path}: keys differ: only in Python {sorted(set(py) - set(want))}, "
            f"only in the CLI {sorted(set(want) - set(py))}"
        )
        for k, v in want.items():
            if k in VOLATILE:
                continue
            assert_same(py[k], v, f"{path}.{k}", tol)
        return
    if isinstance(want, list):
        if isinstance(py, np.ndarray):
            w = np.asarray(want, dtype=float)
            assert py.shape == w.shape, f"{path}: shape {py.shape} != {w.shape}"
            assert np.all(np.abs(py - w) <= tol * np.maximum(1.0, np.abs(w))), (
                f"{path}: {py} != {w}"
            )
            return
        assert isinstance(py, list) and len(py) == len(want), f"{path}: {py!r} != {want!r}"
        for i, (a, b) in enumerate(zip(py, want)):
            assert_same(a, b, f"{path}[{i}]", tol)
        return
    if isinstance(want, bool) or want is None or isinstance(want, str):
        assert py == want, f"{path}: {py!r} != {want!r}"
        return
    assert isinstance(py, (int, float, np.number)) and not isinstance(py, bool), (
        f"{path}: expected a number, got {py!r}"
    )
    assert abs(py - want) <= tol * max(1.0, abs(want)), f"{path}: {py} != {want}"
