//! `H·ψ` on the peer benchmark problem (TFIM, open grid, h = 3.04; `shared/peers`), complex
//! and real arithmetic. Throughput = the minimal bytes of one application (read ψ and the
//! diagonal, write the output), so criterion's GiB/s is the effective bandwidth.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qep::operator::XMaskOperator;
use qep::state::StateVector;
use qep::C64;

fn operator(grid: &str) -> XMaskOperator {
    let path = format!("hamiltonians/bench/tfim_{grid}.yaml");
    let model = qep::hamiltonian::load(Path::new(&path)).expect("benchmark model loads");
    let h = model
        .hamiltonian(&model.theta(), None, 0.0)
        .expect("compiles");
    XMaskOperator::new(&h).expect("fits in memory")
}

fn matvec(c: &mut Criterion) {
    let mut g = c.benchmark_group("tfim_grid_matvec_complex");
    g.sample_size(10);
    for grid in ["4x4", "4x5", "4x6"] {
        let op = operator(grid);
        let psi = StateVector::<C64>::random(op.qubits(), 7).expect("fits");
        let mut out = vec![C64::default(); psi.len()];
        g.throughput(Throughput::Bytes(op.bytes_per_apply(16) as u64));
        g.bench_function(BenchmarkId::from_parameter(op.qubits()), |b| {
            b.iter(|| op.apply_into(black_box(psi.as_slice()), &mut out))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("tfim_grid_matvec_real");
    g.sample_size(10);
    for grid in ["4x4", "4x5", "4x6"] {
        let op = operator(grid);
        let psi = StateVector::<f64>::random(op.qubits(), 7).expect("fits");
        let mut out = vec![0.0; psi.len()];
        g.throughput(Throughput::Bytes(op.bytes_per_apply(8) as u64));
        g.bench_function(BenchmarkId::from_parameter(op.qubits()), |b| {
            b.iter(|| op.apply_into(black_box(psi.as_slice()), &mut out))
        });
    }
    g.finish();
}

criterion_group!(benches, matvec);
criterion_main!(benches);
