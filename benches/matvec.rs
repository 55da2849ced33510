//! `H·ψ` on the benchmark model families (`benches/peers/models.py`): the open-grid TFIM of the
//! peer baselines (h = 3.04, constant X-mask groups only), the quantum-EP phase sensor
//! (cluster-Ising chain + 2 sensor qubits: most groups have Z-dependent signs, read from
//! tables) and a random EP network (XX + ZZ + XZ couplings), complex and real arithmetic.
//! Throughput = the minimal bytes of one application (read ψ and the diagonal, write the
//! output), so criterion's GiB/s is the effective bandwidth.
//!
//! `*_pages`: the same 20-qubit complex product with ψ and the output on ordinary 4 KiB pages
//! (how every qep vector is allocated) and on transparent huge pages (`madvise`, Linux), both
//! copies on fresh mappings aligned to 2 MiB, so that only the page size differs,
//! because each of the kernel's dozen interleaved streams crosses a 4 KiB page every 256
//! complex amplitudes: on an AMD EPYC (Zen 4) the page size alone moved it by 7–19 %.

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

/// A copy of a slice on its own anonymous mapping aligned to 2 MiB, advised before its first
/// write for transparent huge pages (`huge`: the kernel may back it by 2 MiB pages; where it
/// declines, it gets 4 KiB pages like any other vector) or against them. Unmapped on drop.
#[cfg(target_os = "linux")]
struct Mapped<T> {
    map: *mut libc::c_void,
    map_bytes: usize,
    data: *mut T,
    len: usize,
}

#[cfg(target_os = "linux")]
impl<T: Copy> Mapped<T> {
    const PAGE: usize = 2 << 20;

    fn copy_of(src: &[T], huge: bool) -> Self {
        let bytes = std::mem::size_of_val(src);
        let map_bytes = bytes + Self::PAGE;
        // SAFETY: a fresh private anonymous mapping; failure is checked below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED, "mmap of {map_bytes} bytes failed");
        let data = (map as usize).next_multiple_of(Self::PAGE) as *mut T;
        // SAFETY: `data .. data + bytes` lies inside the mapping (at most one huge page of
        // slack is skipped), is aligned for `T` and does not overlap `src`. The advice is a
        // hint: if it is refused the pages are ordinary ones.
        unsafe {
            let advice = if huge {
                libc::MADV_HUGEPAGE
            } else {
                libc::MADV_NOHUGEPAGE
            };
            libc::madvise(data.cast(), bytes, advice);
            std::ptr::copy_nonoverlapping(src.as_ptr(), data, src.len());
        }
        Self {
            map,
            map_bytes,
            data,
            len: src.len(),
        }
    }

    fn as_slice(&self) -> &[T] {
        // SAFETY: `len` initialised values at `data`, owned by `self`.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as `as_slice`, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.data, self.len) }
    }
}

#[cfg(target_os = "linux")]
impl<T> Drop for Mapped<T> {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `copy_of`, unmapped once.
        unsafe { libc::munmap(self.map, self.map_bytes) };
    }
}

/// The 20-qubit complex product of each family with ψ and the output on 4 KiB pages (`small`)
/// and on transparent huge pages (`huge`): at 16 MiB per vector the state fits neither the
/// 2nd-level TLB's reach on 4 KiB pages (12 MiB on AMD Zen 4) nor the L2.
#[cfg(target_os = "linux")]
fn pages(c: &mut Criterion) {
    for name in ["tfim", "sensor", "randnet"] {
        let mut g = c.benchmark_group(format!("{name}_pages"));
        g.sample_size(20);
        let op = operator(&family(name)[1]);
        let psi = StateVector::<C64>::random(op.qubits(), 7).expect("fits");
        let out = vec![C64::default(); psi.len()];
        g.throughput(Throughput::Bytes(op.bytes_per_apply(16) as u64));
        let mut results = Vec::new();
        for (label, huge) in [("small", false), ("huge", true)] {
            let psi = Mapped::copy_of(psi.as_slice(), huge);
            let mut out = Mapped::copy_of(&out, huge);
            g.bench_function(label, |b| {
                b.iter(|| op.apply_into(black_box(psi.as_slice()), out.as_mut_slice()))
            });
            results.push(out.as_slice().to_vec());
        }
        g.finish();
        // The page size changes where the data sits, never the sums.
        assert!(results[0] == results[1], "{name}: huge pages changed H·ψ");
    }
}

#[cfg(not(target_os = "linux"))]
fn pages(_: &mut Criterion) {}

criterion_group!(benches, matvec, pages);
criterion_main!(benches);
