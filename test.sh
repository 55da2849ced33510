#!/usr/bin/env bash
# The whole test suite (what CI runs): the Rust library and CLI, then the Python package
# built from source into a virtual environment and tested with pytest.
#
#   PYTHON=python3.12 ./test.sh      # the interpreter to build the venv from (>= 3.10)
#   QEP_TEST_VENV=/tmp/venv ./test.sh  # where the venv lives (default target/python-venv,
#                                      # git-ignored; reused between runs)
set -euo pipefail
cd "$(dirname "$0")"
root="$PWD"

cargo test --release

python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { echo "error: $python is older than Python 3.10" >&2; exit 1; }
venv="${QEP_TEST_VENV:-$root/target/python-venv}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# The extension builds into the same target folder as the Rust tests, so the qep library
# compiled above is reused.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps ./python
"$venv/bin/python" -m pip install --quiet "./python[test]"
# From inside tests/: `python -m pytest` puts the working directory on sys.path, and from
# python/ that would import the source folder qep/ (no compiled extension) instead of the
# installed package.
cd python/tests
"$venv/bin/python" -m pytest -q -p no:cacheprovider .

# The distributed state vector under MPI (builds qep with `--features mpi`; installs OpenMPI
# when missing).
cd "$root"
tests/mpi/run.sh
