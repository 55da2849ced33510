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

# The plain binary (default features) is the reference; the MPI build replaces
# target/release/qep, so each is copied aside.
bin=target/mpi-test
mkdir -p "$bin"
cargo build --release --bin qep
cp target/release/qep "$bin/qep-plain"
cargo build --release --features mpi --example mpi_h_psi --example mpi_circuit --bin qep
cp target/release/qep "$bin/qep"
# target/release/qep goes back to the plain build (cached: a relink at most). The MPI build
# initialises MPI when it starts, about 0.3 s of wall time even outside mpirun, which the
# binary a user runs after ./test.sh must not pay.
cargo build --release --bin qep
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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

# `same.py A B RANKS TOL`: two JSON results agree (numbers to TOL relative, everything else
# exactly), apart from wall times, the output folder and provenance's time/threads/ranks; and
# B's provenance.ranks is RANKS.
cat >"$work/same.py" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ranks, tol = int(sys.argv[3]), float(sys.argv[4])
skip = {"unix_time", "threads", "ranks", "seconds", "wall_seconds", "out", "dir", "input"}
assert b["provenance"]["ranks"] == ranks, f"ranks {b['provenance']['ranks']} != {ranks}"
def cmp(x, y, at):
    if isinstance(x, dict):
        assert isinstance(y, dict) and set(x) == set(y), f"{at}: keys differ"
        for k in x:
            if k not in skip and "seconds" not in k:
                cmp(x[k], y[k], f"{at}.{k}")
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y), f"{at}: lengths differ"
        for i, (u, v) in enumerate(zip(x, y)):
            cmp(u, v, f"{at}[{i}]")
    elif isinstance(x, float) or isinstance(y, float):
        assert abs(x - y) <= tol * max(1.0, abs(x)), f"{at}: {x} != {y}"
    else:
        assert x == y, f"{at}: {x!r} != {y!r}"
cmp(a, b, "")
print(f"equal, provenance.ranks = {ranks}")
PY
plateau="plateau --family chain --sizes 4..10:2 --samples 40 --seed 5 --json"
"$bin/qep-plain" $plateau --out "$work/p0" >"$work/plateau-plain.json"
for np in 1 2 4; do
    check "qep plateau on $np ranks prints the plain binary's numbers" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep $plateau --out $work/p$np >$work/plateau-$np.json \
         && python3 $work/same.py $work/plateau-plain.json $work/plateau-$np.json $np 0"
done
train="run hamiltonians/iris.yaml --epochs 2 --json"
"$bin/qep-plain" $train --out "$work/r0" >"$work/run-plain.json"
for np in 2 4; do
    check "qep run iris, 2 epochs, on $np ranks: one process's metrics" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep $train --out $work/r$np >$work/run-$np.json \
         && python3 $work/same.py $work/run-plain.json $work/run-$np.json $np 1e-12"
done
# The distributed eigensolve: a 20-qubit ground energy and gap on 1, 2 and 4 ranks (one
# thread each) equal to 1e-10; the state is split over the ranks, Lanczos is the one of one
# process with its sums completed over the ranks.
cat >"$work/energies.py" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ranks = int(sys.argv[3])
assert b["provenance"]["ranks"] == ranks, b["provenance"]["ranks"]
ea, eb = a["energies"] + [a["next_energy"]], b["energies"] + [b["next_energy"]]
d = max(abs(x - y) for x, y in zip(ea, eb))
assert len(ea) == len(eb) and d <= 1e-10, f"{ea} vs {eb}: {d:e}"
print(f"E0 = {eb[0]:.12f}, E1 = {eb[1]:.12f} on {ranks} ranks, largest difference {d:.1e}")
PY
spectrum="spectrum hamiltonians/bench/randnet_20.yaml --json"
RAYON_NUM_THREADS=1 "$bin/qep-plain" $spectrum >"$work/spectrum-plain.json"
for np in 1 2 4; do
    check "qep spectrum, 20 qubits, on $np ranks: one process's energies" bash -c \
        "RAYON_NUM_THREADS=1 mpirun --oversubscribe -np $np $bin/qep $spectrum >$work/spectrum-$np.json \
         && python3 $work/energies.py $work/spectrum-plain.json $work/spectrum-$np.json $np"
done
# The memory check is per rank, and its message says so.
if out=$(QEP_MEMORY_LIMIT=12M timeout 120 mpirun --oversubscribe -x QEP_MEMORY_LIMIT -np 2 \
        "$bin/qep" $spectrum 2>&1); then
    echo "mpi: spectrum over the memory limit FAILED: it succeeded"; failed=$((failed + 1))
elif grep -q "per rank of 2 (each holds 2^19 amplitudes)" <<<"$out"; then
    echo "mpi: spectrum over the memory limit names the per-rank figure ok"; passed=$((passed + 1))
else
    echo "mpi: spectrum over the memory limit FAILED: wrong message:"; echo "$out"; failed=$((failed + 1))
fi

# `qep bench` counts the bytes each rank sends per H·ψ: for the 12-spin TFIM chain, one
# block of 2^(12−g) complex amplitudes per global qubit's X term, g = log2(ranks).
cat >"$work/bytes.py" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
ranks = int(sys.argv[2])
g = ranks.bit_length() - 1
want = g * 2 ** (12 - g) * 16
assert v["ranks"] == ranks and v["provenance"]["ranks"] == ranks, v
assert v["mpi_bytes_per_apply"] == want, (v["mpi_bytes_per_apply"], want)
print(f"mpi_bytes_per_apply = {want} = {g} x 2^{12 - g} x 16 on {ranks} ranks")
PY
for np in 1 2 4; do
    check "qep bench on $np ranks counts the bytes sent per H·ψ" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep bench hamiltonians/tfim_chain.yaml --reps 3 --json \
         >$work/bench-$np.json && python3 $work/bytes.py $work/bench-$np.json $np"
done

# `qep prepare --times`: the sweeps split over the ranks, one process's numbers bit for bit.
prepare="prepare hamiltonians/bench/anneal_2x4.yaml --times 2,4,8 --steps 60 --gap-points 0 --json"
"$bin/qep-plain" $prepare --out "$work/q0" >"$work/prepare-plain.json"
for np in 1 2 4; do
    check "qep prepare --times on $np ranks prints the plain binary's numbers" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep $prepare --out $work/q$np >$work/prepare-$np.json \
         && python3 $work/same.py $work/prepare-plain.json $work/prepare-$np.json $np 0"
done

# `qep prepare --time T` (one sweep): every state split over the ranks, the Krylov and Magnus
# exponentials on the split state and the reference levels by the distributed Lanczos; the
# plain binary's fidelity, energies, residual and counters to 1e-10 (no path scan: with one
# it runs whole on every rank).
prep1="prepare hamiltonians/prep_grid12.yaml --time 8 --steps 40 --gap-points 0 --json"
for method in magnus krylov; do
    "$bin/qep-plain" $prep1 --method $method --out "$work/s$method-0" >"$work/prep1-$method-plain.json"
    for np in 2 4; do
        check "qep prepare --time --method $method, 12 qubits, split over $np ranks: the plain binary's numbers" bash -c \
            "mpirun --oversubscribe -np $np $bin/qep $prep1 --method $method --out $work/s$method-$np >$work/prep1-$method-$np.json \
             && python3 $work/same.py $work/prep1-$method-plain.json $work/prep1-$method-$np.json $np 1e-10"
    done
done
# Its memory check is per rank.
if out=$(QEP_MEMORY_LIMIT=12M timeout 120 mpirun --oversubscribe -x QEP_MEMORY_LIMIT -np 2 \
        "$bin/qep" prepare hamiltonians/bench/randnet_20.yaml --time 4 --gap-points 0 2>&1); then
    echo "mpi: prepare over the memory limit FAILED: it succeeded"; failed=$((failed + 1))
elif grep -q "distributed qep prepare of 20 qubits, per rank of 2 (each holds 2^19 amplitudes)" <<<"$out"; then
    echo "mpi: prepare over the memory limit names the per-rank figure ok"; passed=$((passed + 1))
else
    echo "mpi: prepare over the memory limit FAILED: wrong message:"; echo "$out"; failed=$((failed + 1))
fi

# Distributed circuits: a 16-qubit Qiskit random circuit (every gate kind Qiskit draws, 3-qubit
# gates across the boundary of local and global qubits). Its state on 1, 2 and 4 ranks equals
# one process's to 1e-12 (the example compares every rank's block with the same rows), and
# `qep circuit run` gives the plain binary's counts for the same seed, exactly.
for np in 1 2 4; do
    check "16-qubit random circuit's state on $np ranks equals one process" \
        mpirun_ "$np" target/release/examples/mpi_circuit tests/mpi/random16.qasm
done
circ="circuit run tests/mpi/random16.qasm --shots 20000 --seed 7 --json"
"$bin/qep-plain" $circ >"$work/circuit-plain.json"
for np in 2 4; do
    check "qep circuit run, 16 qubits, on $np ranks: the plain binary's counts" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep $circ >$work/circuit-$np.json \
         && python3 $work/same.py $work/circuit-plain.json $work/circuit-$np.json $np 0"
done

# Distributed evolution: the Krylov propagator on the split state, observables (one across
# the boundary of local and global qubits) equal to one process's to 1e-10.
evolve="evolve hamiltonians/tfim_chain.yaml --initial plus --times 0.5,1,2 --json"
observe="Z0,X11,Z10 Z11,X0 X11"
"$bin/qep-plain" $evolve --observe "$observe" >"$work/evolve-plain.json"
for np in 2 4; do
    check "qep evolve, 12 qubits, on $np ranks: one process's observables" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep $evolve --observe '$observe' >$work/evolve-$np.json \
         && python3 $work/same.py $work/evolve-plain.json $work/evolve-$np.json $np 1e-10"
done

# Distributed EP gradients: the free and clamped ground states of a 16-qubit model split over
# the ranks (outputs and parameters on the global qubits 14, 15), every ⟨P_k⟩ summed over them;
# the gradient equals the plain binary's to 1e-9, in the same JSON layout.
cat >"$work/grad.py" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ranks = int(sys.argv[3])
assert b["provenance"]["ranks"] == ranks, b["provenance"]["ranks"]
assert set(a) == set(b), f"keys differ: {set(a) ^ set(b)}"
assert a["params"] == b["params"] and len(a["ep"]) == len(b["ep"]) > 0
d = max(abs(x - y) for x, y in zip(a["ep"], b["ep"]))
assert d <= 1e-9, f"EP differs by {d:e}"
for k in ("energy", "cost", "gap"):
    assert (a[k] is None) == (b[k] is None), f"{k}: {a[k]} vs {b[k]}"
    assert a[k] is None or abs(a[k] - b[k]) <= 1e-9, f"{k}: {a[k]} vs {b[k]}"
print(f"{len(b['ep'])} components, largest difference {d:.1e}, E = {b['energy']:.10f} on {ranks} ranks")
PY
grad="grad hamiltonians/bench/sensor_16.yaml --targets=1,-1 --no-exact --json"
RAYON_NUM_THREADS=1 "$bin/qep-plain" $grad >"$work/grad-plain.json"
for np in 2 4; do
    check "qep grad, 16 qubits, on $np ranks: the plain binary's EP gradient" bash -c \
        "RAYON_NUM_THREADS=1 mpirun --oversubscribe -np $np $bin/qep $grad >$work/grad-$np.json \
         && python3 $work/grad.py $work/grad-plain.json $work/grad-$np.json $np"
done
# Its memory check is per rank too.
if out=$(QEP_MEMORY_LIMIT=12M timeout 120 mpirun --oversubscribe -x QEP_MEMORY_LIMIT -np 4 \
        "$bin/qep" $grad 2>&1); then
    echo "mpi: grad over the memory limit FAILED: it succeeded"; failed=$((failed + 1))
elif grep -q "per rank of 4 (each holds 2^14 amplitudes)" <<<"$out"; then
    echo "mpi: grad over the memory limit names the per-rank figure ok"; passed=$((passed + 1))
else
    echo "mpi: grad over the memory limit FAILED: wrong message:"; echo "$out"; failed=$((failed + 1))
fi

# Three ranks cannot split a state on whole qubits: the eigen engine refuses them with the
# reason, while an engine that computes the gradient whole on every rank (thermal) runs and
# prints the plain binary's numbers.
if out=$(timeout 120 mpirun --oversubscribe -np 3 "$bin/qep" grad hamiltonians/xor.yaml --inputs 1,0 \
        --targets=1 --no-exact 2>&1); then
    echo "mpi: eigen grad on 3 ranks FAILED: it succeeded"; failed=$((failed + 1))
elif grep -q "must be a power of two" <<<"$out"; then
    echo "mpi: eigen grad on 3 ranks refuses with the reason ok"; passed=$((passed + 1))
else
    echo "mpi: eigen grad on 3 ranks FAILED: wrong message:"; echo "$out"; failed=$((failed + 1))
fi
thermal="grad hamiltonians/xor.yaml --inputs 1,0 --targets=1 --temperature 0.5 --json"
"$bin/qep-plain" $thermal | python3 -c 'import json,sys; print(json.load(sys.stdin)["exact"])' \
    >"$work/thermal-plain.txt" 2>/dev/null || true
check "thermal qep grad on 3 ranks: the plain binary's gradient" bash -c \
    "mpirun --oversubscribe -np 3 $bin/qep $thermal | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"exact\"])' >$work/thermal-3.txt \
     && test -s $work/thermal-plain.txt && diff $work/thermal-plain.txt $work/thermal-3.txt"

# One rank is the plain qep, byte for byte; several print the same text once. The free memory
# the machine reports ("available …") moves between runs, so that figure is masked.
mask_free() { sed -E 's/available [0-9.]+ [KMGT]?i?B/available (masked)/' "$1" >"$1.masked"; }
"$bin/qep-plain" info hamiltonians/xor.yaml >"$work/info-plain.txt"
mask_free "$work/info-plain.txt"
export -f mask_free
for np in 1 2; do
    check "qep info on $np ranks prints the plain binary's text, once" bash -c \
        "mpirun --oversubscribe -np $np $bin/qep info hamiltonians/xor.yaml >$work/info-$np.txt \
         && mask_free $work/info-$np.txt \
         && cmp $work/info-plain.txt.masked $work/info-$np.txt.masked && echo identical"
done
# Bad input on every rank: exit code 1, the message once, no hang.
if out=$(timeout 120 mpirun --oversubscribe -np 4 "$bin/qep" info "$work/missing.yaml" 2>&1); then
    echo "mpi: missing file on 4 ranks FAILED: it succeeded: $out"; failed=$((failed + 1))
else
    code=$?
    n=$(grep -c "^error: .*missing.yaml" <<<"$out" || true)
    if [ "$code" = 1 ] && [ "$n" = 1 ]; then
        echo "mpi: missing file on 4 ranks: exit 1, one message ok"; passed=$((passed + 1))
    else
        echo "mpi: missing file on 4 ranks FAILED: exit $code (124: a hang), $n messages:"; echo "$out"
        failed=$((failed + 1))
    fi
fi
echo "mpi: $passed passed, $failed failed"
[ "$failed" = 0 ]
