//! `H·ψ` on the benchmark model families (`benches/peers/models.py`): the open-grid TFIM of the
//! peer baselines (h = 3.04, constant X-mask groups only), the quantum-EP phase sensor
//! (cluster-Ising chain + 2 sensor qubits: most groups have Z-dependent signs, read from
//! tables) and a random EP network (XX + ZZ + XZ couplings), complex and real arithmetic.
//! Throughput = the minimal bytes of one application (read ψ and the diagonal, write the
//! output), so criterion's GiB/s is the effective bandwidth.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qep::operator::XMaskOperator;
use qep::state::StateVector;
use qep::C64;

fn operator(file: &str) -> XMaskOperator {
    let path = format!("hamiltonians/bench/{file}.yaml");
    let model = qep::hamiltonian::load(Path::new(&path)).expect("benchmark model loads");
    let h = model
        .hamiltonian(&model.theta(), None, 0.0)
        .expect("compiles");
    XMaskOperator::new(&h).expect("fits in memory")
}

/// The models of one family at 16, 20 and 24 qubits.
fn family(name: &str) -> [String; 3] {
    match name {
        "tfim" => ["tfim_4x4", "tfim_4x5", "tfim_4x6"].map(String::from),
        _ => [16, 20, 24].map(|n| format!("{name}_{n}")),
    }
}

fn matvec(c: &mut Criterion) {
    for name in ["tfim", "sensor", "randnet"] {
        let mut g = c.benchmark_group(format!("{name}_matvec_complex"));
        g.sample_size(10);
        for file in family(name) {
            let op = operator(&file);
            let psi = StateVector::<C64>::random(op.qubits(), 7).expect("fits");
            let mut out = vec![C64::default(); psi.len()];
            g.throughput(Throughput::Bytes(op.bytes_per_apply(16) as u64));
            g.bench_function(BenchmarkId::from_parameter(op.qubits()), |b| {
                b.iter(|| op.apply_into(black_box(psi.as_slice()), &mut out))
            });
        }
        g.finish();
        let mut g = c.benchmark_group(format!("{name}_matvec_real"));
        g.sample_size(10);
        for file in family(name) {
            let op = operator(&file);
            let psi = StateVector::<f64>::random(op.qubits(), 7).expect("fits");
            let mut out = vec![0.0; psi.len()];
            g.throughput(Throughput::Bytes(op.bytes_per_apply(8) as u64));
            g.bench_function(BenchmarkId::from_parameter(op.qubits()), |b| {
                b.iter(|| op.apply_into(black_box(psi.as_slice()), &mut out))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, matvec);
criterion_main!(benches);
