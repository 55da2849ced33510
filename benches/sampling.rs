//! Shot sampling: 10^6 shots from `|ψ|²` of a random 20-qubit state, the whole
//! `O(2^N + S)` pipeline (cumulative distribution, sorted uniforms, counts). Peers:
//! numpy's `Generator.choice(p=…)` ≈ 0.2 s, sorted uniforms against `cumsum` ≈ 0.03 s
//! (`../shared/peers/`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qep::measure::sample_state;
use qep::state::StateVector;
use qep::C64;

fn sampling(c: &mut Criterion) {
    let psi = StateVector::<C64>::random(20, 7).expect("fits");
    let shots = 1_000_000u64;
    let mut g = c.benchmark_group("sample_state_20q");
    g.sample_size(10);
    g.throughput(Throughput::Elements(shots));
    g.bench_function("1e6_shots", |b| {
        b.iter(|| sample_state(black_box(psi.as_slice()), shots, 42).expect("samples"))
    });
    g.finish();
}

criterion_group!(benches, sampling);
criterion_main!(benches);
