"""The notebook-style example runs as users run it."""

import subprocess
import sys

from conftest import REPO


def test_ep_from_python_example_runs(tmp_path):
    script = REPO / "python" / "examples" / "ep_from_python.py"
    out = subprocess.run(
        [sys.executable, str(script), "--epochs", "3", "--plot", str(tmp_path / "cost.png")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "xor: 5 qubits, 24 parameters" in out.stdout
    assert "engine eigen" in out.stdout
    assert "trained 3 epochs: cost" in out.stdout
    # With matplotlib the plot is written, without it the script says so.
    assert (tmp_path / "cost.png").is_file() or "matplotlib is not installed" in out.stdout
