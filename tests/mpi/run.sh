#!/usr/bin/env bash
# The MPI tests: qep built with `--features mpi` and run under mpirun on 1, 2 and 4 ranks
# (oversubscribed: small sizes, any machine). Installs OpenMPI from the distribution's
# packages when it is missing (Debian/Ubuntu, as root), as the README's "On a cluster" says.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "mpi: installing OpenMPI (openmpi-bin libopenmpi-dev libclang-dev)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin libopenmpi-dev libclang-dev >/dev/null
    else
        echo "error: OpenMPI is missing; install it with: apt-get install -y openmpi-bin libopenmpi-dev libclang-dev" >&2
        exit 1
    fi
fi

cargo build --release --features mpi --example mpi_h_psi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun_() { mpirun --oversubscribe -np "$@"; }

passed=0
failed=0
check() { # name, command...
    local name=$1; shift
    if out=$("$@" 2>&1); then
        echo "mpi: $name ok: $out"
        passed=$((passed + 1))
    else
        echo "mpi: $name FAILED:"; echo "$out"
        failed=$((failed + 1))
    fi
}
for np in 1 2 4; do
    check "H·ψ on $np ranks equals one process" \
        mpirun_ "$np" target/release/examples/mpi_h_psi 16 80
done
# An input no rank can use stops every rank with the message (MPI_Abort), not a hang.
if out=$(timeout 120 mpirun --oversubscribe -np 4 target/release/examples/mpi_h_psi 2 4 2>&1); then
    echo "mpi: 4 ranks for 2 qubits FAILED: it succeeded: $out"; failed=$((failed + 1))
elif grep -q "4 ranks for 2 qubits: each rank needs at least one local qubit" <<<"$out"; then
    echo "mpi: 4 ranks for 2 qubits refused ok"; passed=$((passed + 1))
else
    echo "mpi: 4 ranks for 2 qubits FAILED: wrong message or a hang:"; echo "$out"; failed=$((failed + 1))
fi
echo "mpi: $passed passed, $failed failed"
[ "$failed" = 0 ]
