"""EP from Python: Model.grad and Model.train against `qep grad --json` and `qep run --json`."""

import json
import os
import signal
import subprocess
import threading

import numpy as np
import pytest
from conftest import assert_same, cli_binary

import qep

# Every model of hamiltonians/ with a dataset that `qep grad` differentiates in a moment,
# with the engine `qep run` trains it with.
GRAD_MODELS = {
    "xor": "eigen",
    "xor_thermal": "thermal",
    "xor_classical": "classical",
    "xor_adiabatic": "prepared",
    "parity3": "eigen",
    "iris": "eigen",
    "ising_grid": "eigen",
}


@pytest.mark.parametrize("name", sorted(GRAD_MODELS))
def test_grad_equals_cli(repo, cli, name):
    f = repo / "hamiltonians" / f"{name}.yaml"
    want = cli("grad", f, "--example", "0")
    got = qep.Model.from_yaml(f).grad(example=0)
    assert_same(got, want)
    assert got["engine"] == GRAD_MODELS[name]
    # Vectors come as numpy arrays, with one entry per parameter.
    ep = got["ep"] if "ep" in got else got["clamped"]
    assert isinstance(ep, np.ndarray) and ep.dtype == np.float64
    assert len(ep) == len(qep.Model.from_yaml(f).params)


def test_grad_options_equal_cli_flags(repo, cli):
    f = repo / "hamiltonians" / "xor.yaml"
    m = qep.Model.from_yaml(f)
    # Shots with a seed: a sampled estimate with standard errors, the CLI's draws.
    want = cli("grad", f, "--example", "2", "--shots", "2000", "--seed", "7", "--beta", "0.1")
    got = m.grad(example=2, shots=2000, seed=7, beta=0.1)
    assert_same(got, want)
    assert got["ep_std"] is not None and np.all(got["ep_std"] > 0)
    assert got["shots_total"] == want["shots_total"] > 0
    # A temperature turns the eigen model thermal: the four dense gradients.
    want = cli("grad", f, "--temperature", "0.5")
    got = m.grad(temperature=0.5)
    assert_same(got, want)
    assert got["engine"] == "thermal" and set(got) >= {"clamped", "covariance", "kubo_mori"}
    # Without the oracle: no `exact`, no cosine.
    want = cli("grad", f, "--no-exact", "--inputs=-3,3", "--targets=1")
    got = m.grad(example=([-3, 3], [1]), exact=False)
    assert_same(got, want)
    assert got["exact"] is None and got["cosine"] is None
    # Prepared states at several sweep times, compared with the exact-state estimate.
    f = repo / "hamiltonians" / "xor_adiabatic.yaml"
    want = cli("grad", f, "--prep-times", "1,2", "--one-sided")
    got = qep.Model.from_yaml(f).grad(prep_times=[1, 2], one_sided=True)
    assert_same(got, want)
    assert [p["time"] for p in got["prepared"]] == [1.0, 2.0] and got["one_sided"] is True


def test_grad_uses_the_current_theta():
    d = {
        "qubits": 2,
        "inputs": [0],
        "outputs": [1],
        "terms": [{"pauli": "X0", "coeff": -1.0}, {"pauli": "X1", "coeff": -1.0}],
        "params": [{"pauli": "Z0 Z1", "value": 0.3}],
    }
    m = qep.Model.from_dict(d)
    ex = ([1.0], [1.0])
    g1 = m.grad(example=ex)
    m.theta = [-0.4]
    g2 = m.grad(example=ex)
    d["params"][0]["value"] = -0.4
    g3 = qep.Model.from_dict(d).grad(example=ex)
    assert abs(g1["ep"][0] - g2["ep"][0]) > 1e-3
    np.testing.assert_array_equal(g2["ep"], g3["ep"])
    # EP agrees with its oracle to O(β²).
    assert abs(g2["ep"][0] - g2["exact"][0]) < 1e-3 * max(1.0, abs(g2["exact"][0]))


def test_grad_errors_carry_the_cli_messages(repo):
    f = repo / "hamiltonians" / "xor.yaml"
    m = qep.Model.from_yaml(f)
    with pytest.raises(ValueError, match=r"example 9 does not exist; expected 0\.\.4 \(training examples\)"):
        m.grad(example=9)
    with pytest.raises(qep.QepError, match="beta = -1 is not a clamping strength"):
        m.grad(beta=-1.0)
    with pytest.raises(ValueError, match=r"targets has 2 values; expected 1, one per model output \[4\]"):
        m.grad(example=([1, 1], [1, 1]))


def test_grad_error_message_is_the_clis(repo):
    # explicit.yaml's ground state at these inputs is degenerate: no gradient exists.
    f = repo / "hamiltonians" / "explicit.yaml"
    out = subprocess.run(
        [str(cli_binary()), "grad", str(f), "--inputs=1,-1", "--targets=1", "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    with pytest.raises(qep.QepError) as e:
        qep.Model.from_yaml(f).grad(example=([1, -1], [1]))
    assert "level 0 is degenerate" in str(e.value)
    assert out.stderr.strip() == f"error: {e.value}"


def _run_dir(d):
    return {n: json.loads((d / n).read_text()) for n in ("params.json", "summary.json")}


def test_train_equals_cli_run(repo, cli, tmp_path):
    f = repo / "hamiltonians" / "xor.yaml"
    want = cli("run", f, "--epochs", "3", "--out", tmp_path / "cli")
    m = qep.Model.from_yaml(f)
    theta0 = m.theta
    got = m.train(epochs=3, out=tmp_path / "py")
    extra = {"theta", "history"}
    assert set(got) - set(want) == extra
    assert_same({k: v for k, v in got.items() if k not in extra}, want)
    assert got["epochs"] == 3
    # The same trained parameters, in the run folder and in the model.
    assert _run_dir(tmp_path / "py")["params.json"] == _run_dir(tmp_path / "cli")["params.json"]
    np.testing.assert_array_equal(m.theta, got["theta"])
    assert np.max(np.abs(got["theta"] - theta0)) > 1e-4
    h = got["history"]
    np.testing.assert_array_equal(h["epoch"], [1, 2, 3])
    assert h["train_cost"][-1] == got["final_cost"]
    # Without a folder: the same numbers, nothing written.
    again = qep.Model.from_yaml(f).train(epochs=3)
    np.testing.assert_array_equal(again["theta"], got["theta"])
    assert again["final_cost"] == got["final_cost"]


@pytest.mark.parametrize("name", ["xor_classical", "xor_thermal", "xor_adiabatic", "parity3"])
def test_train_equals_cli_run_on_every_engine(repo, cli, tmp_path, name):
    f = repo / "hamiltonians" / f"{name}.yaml"
    want = cli("run", f, "--epochs", "2", "--out", tmp_path / "cli")
    got = qep.Model.from_yaml(f).train(epochs=2, out=tmp_path / "py")
    assert_same({k: v for k, v in got.items() if k not in ("theta", "history")}, want)
    assert _run_dir(tmp_path / "py")["params.json"] == _run_dir(tmp_path / "cli")["params.json"]


def test_train_resumes_and_refuses_a_used_folder(repo, tmp_path):
    f = repo / "hamiltonians" / "xor.yaml"
    whole = qep.Model.from_yaml(f).train(epochs=2)
    qep.Model.from_yaml(f).train(epochs=1, out=tmp_path)
    with pytest.raises(qep.QepError, match="overwrite=True replaces it"):
        qep.Model.from_yaml(f).train(epochs=2, out=tmp_path)
    resumed = qep.Model.from_yaml(f).train(epochs=2, out=tmp_path, resume=True)
    assert resumed["resumed_from"] == 1 and resumed["epochs"] == 2
    np.testing.assert_array_equal(resumed["theta"], whole["theta"])
    # A finished run resumed again trains nothing and returns its summary.
    again = qep.Model.from_yaml(f).train(epochs=2, out=tmp_path, resume=True)
    assert again["wall_seconds"] == resumed["wall_seconds"]
    np.testing.assert_array_equal(again["theta"], whole["theta"])


class _InterruptingBar:
    """A progress display that presses Ctrl-C at the first report."""

    def __init__(self, desc):
        self.calls = 0

    def update_to(self, done, total):
        self.calls += 1
        if self.calls == 1:
            os.kill(os.getpid(), signal.SIGINT)

    def close(self):
        pass


def test_keyboard_interrupt_stops_training_and_saves(repo, tmp_path, monkeypatch):
    import qep._progress

    monkeypatch.setattr(qep._progress, "Bar", _InterruptingBar)
    f = repo / "hamiltonians" / "xor.yaml"
    m = qep.Model.from_yaml(f)
    theta0 = m.theta
    with pytest.raises(KeyboardInterrupt, match="interrupted at epoch 0; checkpoint saved in"):
        m.train(epochs=50, out=tmp_path, progress=True)
    # Stopped within the first epoch: theta is the last completed epoch's (the start).
    np.testing.assert_array_equal(m.theta, theta0)
    ckpt = json.loads((tmp_path / "checkpoint.json").read_text())
    assert ckpt["epoch"] == 0
    # The run goes on from the checkpoint (without the display that presses Ctrl-C).
    done = qep.Model.from_yaml(f).train(epochs=1, out=tmp_path, resume=True, progress=False)
    assert done["epochs"] == 1


class _InterruptingLaterBar:
    """A progress display that has Ctrl-C pressed from another thread a moment after the
    first report, while the training goes on (in Rust, or in this display)."""

    def __init__(self, desc):
        self.thread = None

    def update_to(self, done, total):
        if self.thread is None:
            pid = os.getpid()
            self.thread = threading.Timer(0.05, lambda: os.kill(pid, signal.SIGINT))
            self.thread.start()

    def close(self):
        self.thread.join()


def test_keyboard_interrupt_reaches_a_running_training(repo, monkeypatch):
    import qep._progress

    monkeypatch.setattr(qep._progress, "Bar", _InterruptingLaterBar)
    m = qep.Model.from_yaml(repo / "hamiltonians" / "xor.yaml")
    with pytest.raises(KeyboardInterrupt, match=r"interrupted at epoch \d+$") as e:
        m.train(epochs=100_000, progress=True)
    # Stopped long before the end; theta holds the last completed epoch's parameters.
    epoch = int(str(e.value).rsplit(" ", 1)[1])
    assert epoch < 100_000
    moved = np.max(np.abs(m.theta - qep.Model.from_yaml(repo / "hamiltonians" / "xor.yaml").theta))
    assert (moved > 0) == (epoch > 0)


def test_train_progress_bar_without_tqdm(repo, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    qep.Model.from_yaml(repo / "hamiltonians" / "xor.yaml").train(epochs=1, progress=True)
    err = capsys.readouterr().err
    assert "xor: training [" in err and "] 4/4" in err
