//! Shot branching: 10⁵ shots of a 12-qubit dynamic circuit (mid-circuit measurements, resets,
//! a condition, final measurement of every qubit). Re-simulating every shot costs 10⁵ runs of
//! the circuit; branching costs one run per distinct measurement record (a handful).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qep::circuit::{parse_qasm, sample_counts};

const DYNAMIC_12: &str = "OPENQASM 2.0;
include \"qelib1.inc\";
qreg q[12];
creg c[12];
h q;
cx q[0],q[1]; cx q[2],q[3]; cx q[4],q[5]; cx q[6],q[7]; cx q[8],q[9]; cx q[10],q[11];
rx(0.3) q;
measure q[0] -> c[0];
reset q[0];
h q[0];
cx q[0],q[11];
measure q[1] -> c[1];
if (c == 3) x q[5];
reset q[1];
ry(0.7) q;
cx q[1],q[2]; cx q[3],q[4]; cx q[5],q[6]; cx q[7],q[8]; cx q[9],q[10];
measure q[2] -> c[2];
rz(0.2) q;
h q;
measure q -> c;
";

fn branching(c: &mut Criterion) {
    let circuit = parse_qasm(DYNAMIC_12).expect("parses");
    let shots = 100_000u64;
    let mut g = c.benchmark_group("shot_branching_12q");
    g.sample_size(10);
    g.throughput(Throughput::Elements(shots));
    g.bench_function("1e5_shots", |b| {
        b.iter(|| sample_counts(black_box(&circuit), shots, 42).expect("runs"))
    });
    g.finish();
}

criterion_group!(benches, branching);
criterion_main!(benches);
