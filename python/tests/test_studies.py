"""The studies from Python: qep.plateau, qep.shots_study, qep.prepare and qep.thermalize
against the CLI's --json on small models."""

import sys

import numpy as np
import pytest
from conftest import assert_same

import qep


def test_plateau_equals_cli(cli, tmp_path):
    want = cli("plateau", "--sizes", "3,4", "--samples", "4", "--seed", "3", "--out", tmp_path)
    got = qep.plateau(sizes="3..4", samples=4, seed=3)
    assert_same(got, want)
    assert isinstance(got["variance"], np.ndarray) and got["variance"].shape == (2,)
    np.testing.assert_array_equal(got["sizes"], [3, 4])
    assert got["complete"] is True and got["family"] == "chain"


def test_plateau_checks_sizes():
    with pytest.raises(ValueError, match="at least two sizes, each between 2 and 24"):
        qep.plateau(sizes=[4])
    with pytest.raises(ValueError, match="expected A..B"):
        qep.plateau(sizes="4..x")


def test_shots_study_equals_cli(repo, cli, tmp_path):
    f = repo / "hamiltonians" / "xor.yaml"
    args = ["--shots", "200,2000", "--betas", "0.05,0.2", "--repeats", "3", "--seed", "5"]
    want = cli("shots", f, *args, "--out", tmp_path)
    got = qep.shots_study(f, shots=[200, 2000], betas=[0.05, 0.2], repeats=3, seed=5)
    assert_same(got, want)
    assert len(got["cells"]) == 4
    # optimal_beta rows (S, best β, model β*) as a 2-D array.
    assert got["optimal_beta"].shape == (2, 3)


def test_prepare_equals_cli(repo, cli, tmp_path):
    f = repo / "hamiltonians" / "xor.yaml"
    want = cli("prepare", f, "--times", "1,3", "--gap-points", "3", "--out", tmp_path)
    got = qep.prepare(qep.Model.from_yaml(f), times=[1, 3], gap_points=3)
    assert_same(got, want)
    fids = [r["fidelity"] for r in got["runs"]]
    # A longer sweep is more adiabatic.
    assert fids[1] > fids[0]


def test_prepare_an_operator():
    op = qep.Operator.from_terms([("Z0 Z1", -1.0), ("X0", -0.5), ("X1", -0.5)], 2)
    got = qep.prepare(op, time=20.0, gap_points=0)
    exact = op.spectrum(k=1).energies[0]
    assert got["qubits"] == 2 and got["time"] == 20.0
    assert got["fidelity"] > 0.99
    assert abs(got["energy"] - exact) < 1e-2
    with pytest.raises(ValueError, match="complex coefficient"):
        qep.prepare(qep.Operator.from_terms([("Y0", 1j)], 1), time=1.0)


def test_thermalize_equals_cli(repo, cli, tmp_path):
    f = repo / "hamiltonians" / "xor_thermal.yaml"
    want = cli("thermalize", f, "--steps", "4", "--method", "davies", "--out", tmp_path)
    got = qep.thermalize(f, steps=4, method="davies")
    assert_same(got, want)
    assert len(got["trace"]) == 5
    # Relaxation brings the state towards the Gibbs state.
    assert got["trace_distance"] < got["trace"][0]["trace_distance"]
    with pytest.raises(ValueError, match="temperature -1: expected a finite number > 0"):
        qep.thermalize(f, -1.0)


def test_to_pandas_tables(repo):
    pandas = pytest.importorskip("pandas")
    r = qep.plateau(sizes=[3, 4], samples=3)
    df = r.to_pandas()
    assert isinstance(df, pandas.DataFrame)
    assert list(df["qubits"]) == [3, 4]
    np.testing.assert_allclose(df["variance"], r["variance"])


def test_prepare_to_pandas_tables(repo):
    pytest.importorskip("pandas")
    f = repo / "hamiltonians" / "xor.yaml"
    several = qep.prepare(f, times=[1, 2], gap_points=0).to_pandas()
    assert list(several["time"]) == [1.0, 2.0] and "fidelity" in several
    one = qep.prepare(f, time=1.0, gap_points=4)
    path = one.to_pandas()
    assert len(path) == 4 and list(path["s"]) == list(np.linspace(0, 1, 4))


def test_to_pandas_without_pandas_says_so(monkeypatch):
    r = qep.plateau(sizes=[3, 4], samples=2)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"to_pandas\(\) needs pandas.*result\['per_size'\]"):
        r.to_pandas()


def test_keyboard_interrupt_stops_a_plateau_scan():
    import os
    import signal
    import threading

    # A scan far too long to finish; Ctrl-C arrives while it runs in Rust.
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt, match=r"interrupted after 0 of 3 sizes"):
            qep.plateau(sizes="8..10", samples=1_000_000)
    finally:
        timer.join()
