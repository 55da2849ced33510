//! Ground state of the peer benchmark problem (TFIM, open grid, h = 3.04; `shared/peers`) by
//! Lanczos, real arithmetic (the operator is real in the Z basis), from the parsed model file:
//! what `qep spectrum --k 1` does minus the printing.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use qep::linalg::{eigenpairs, LanczosParams};
use qep::operator::XMaskOperator;

fn ground(c: &mut Criterion) {
    let mut g = c.benchmark_group("tfim_grid_ground_state");
    g.sample_size(10);
    for grid in ["3x4", "4x4", "4x5"] {
        let path = format!("hamiltonians/bench/tfim_{grid}.yaml");
        let params = LanczosParams {
            k: 1,
            ..LanczosParams::default()
        };
        g.bench_function(BenchmarkId::from_parameter(grid), |b| {
            b.iter(|| {
                let model = qep::hamiltonian::load(Path::new(&path)).expect("loads");
                let h = model
                    .hamiltonian(&model.theta(), None, 0.0)
                    .expect("compiles");
                let op = XMaskOperator::new(&h).expect("fits");
                let s = eigenpairs(&op, &params, None).expect("converges");
                black_box(s.energies()[0])
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ground);
criterion_main!(benches);
