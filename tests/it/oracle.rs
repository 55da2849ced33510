//! Slow, obvious oracles shared by the test modules (STYLE.md §7): dense Kronecker matrices
//! built from explicit 2×2 Pauli matrices, a naive per-term `H·ψ`, seeded random operators and
//! states, the model Hamiltonians used by several modules, and the free-fermion solution of the
//! open transverse-field Ising chain.
//!
//! Nothing here calls the library's matrix builders (`to_dense`, `row`, `apply_into`): the
//! oracles only read a string's two masks.

#![allow(dead_code)] // each test module uses a different subset

use proptest::test_runner::{Config, RngSeed};
use qep::pauli::{PauliString, PauliSum};
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Proptest settings: `cases` cases from a fixed seed, no regression files.
pub fn prop_config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_0f9e),
        failure_persistence: None,
        ..Config::default()
    }
}

pub fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

const O: C64 = C64::new(0.0, 0.0);
const ONE: C64 = C64::new(1.0, 0.0);
const I: C64 = C64::new(0.0, 1.0);

/// The 2×2 matrices, row-major, row = output: I, X, Y = [[0, −i], [i, 0]], Z = diag(1, −1).
pub const MAT_I: [C64; 4] = [ONE, O, O, ONE];
pub const MAT_X: [C64; 4] = [O, ONE, ONE, O];
pub const MAT_Y: [C64; 4] = [O, C64::new(0.0, -1.0), I, O];
pub const MAT_Z: [C64; 4] = [ONE, O, O, C64::new(-1.0, 0.0)];

/// Letter on qubit `q` as a character, read from the masks only (X bit, Z bit).
pub fn letter_char(p: PauliString, q: usize) -> char {
    match ((p.x() >> q) & 1, (p.z() >> q) & 1) {
        (0, 0) => 'I',
        (1, 0) => 'X',
        (0, 1) => 'Z',
        _ => 'Y',
    }
}

pub fn mat2(letter: char) -> [C64; 4] {
    match letter {
        'I' => MAT_I,
        'X' => MAT_X,
        'Y' => MAT_Y,
        'Z' => MAT_Z,
        _ => panic!("not a Pauli letter: {letter}"),
    }
}

/// `A ⊗ B` for row-major square matrices of sides `da`, `db`.
pub fn kron(a: &[C64], da: usize, b: &[C64], db: usize) -> Vec<C64> {
    let d = da * db;
    let mut m = vec![O; d * d];
    for i in 0..da {
        for j in 0..da {
            let aij = a[i * da + j];
            if aij == O {
                continue;
            }
            for k in 0..db {
                for l in 0..db {
                    m[(i * db + k) * d + (j * db + l)] = aij * b[k * db + l];
                }
            }
        }
    }
    m
}

/// The `2^n × 2^n` matrix of a Pauli string: `q_{n−1} ⊗ … ⊗ q_1 ⊗ q_0`, so that qubit `i`
/// is bit `i` of the basis index (the last factor varies fastest).
pub fn kron_string(p: PauliString, n: usize) -> Vec<C64> {
    let mut m = vec![ONE];
    let mut d = 1;
    for q in (0..n).rev() {
        m = kron(&m, d, &mat2(letter_char(p, q)), 2);
        d *= 2;
    }
    m
}

/// `Σ_t c_t M(P_t)` from the Kronecker products of every term.
pub fn kron_matrix(h: &PauliSum) -> Vec<C64> {
    let n = h.qubits();
    let dim = 1usize << n;
    let mut m = vec![O; dim * dim];
    for &(p, coef) in h.terms() {
        for (a, b) in m.iter_mut().zip(kron_string(p, n)) {
            *a += coef * b;
        }
    }
    m
}

/// Row-major `A·B` for `d × d` matrices.
pub fn matmul(a: &[C64], b: &[C64], d: usize) -> Vec<C64> {
    let mut m = vec![O; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            if aik == O {
                continue;
            }
            for j in 0..d {
                m[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    m
}

/// `M·v` for a row-major `d × d` matrix.
pub fn matvec(m: &[C64], v: &[C64]) -> Vec<C64> {
    let d = v.len();
    assert_eq!(m.len(), d * d);
    (0..d)
        .map(|i| {
            m[i * d..(i + 1) * d]
                .iter()
                .zip(v)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

/// The conjugate transpose of a `d × d` matrix.
pub fn dagger(m: &[C64], d: usize) -> Vec<C64> {
    let mut t = vec![O; d * d];
    for i in 0..d {
        for j in 0..d {
            t[j * d + i] = m[i * d + j].conj();
        }
    }
    t
}

/// `⟨ψ|M|ψ⟩` with the dense matrix.
pub fn sandwich(m: &[C64], psi: &[C64]) -> C64 {
    let mv = matvec(m, psi);
    psi.iter().zip(&mv).map(|(a, b)| a.conj() * b).sum()
}

/// `max |a − b|`.
pub fn max_abs_diff(a: &[C64], b: &[C64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

/// `max |a| `.
pub fn max_abs(a: &[C64]) -> f64 {
    a.iter().map(|x| x.norm()).fold(0.0, f64::max)
}

/// Asserts `max |a − b| ≤ rel · max(1, max |b|)`.
#[track_caller]
pub fn assert_close(a: &[C64], b: &[C64], rel: f64, what: &str) {
    let d = max_abs_diff(a, b);
    let scale = max_abs(b).max(1.0);
    assert!(
        d <= rel * scale,
        "{what}: max |diff| = {d:.3e} > {rel:.1e} × {scale:.3e}"
    );
}

/// `i^k` from the integer `k`, written out (not via the library's `Phase`).
pub fn i_pow(k: u32) -> C64 {
    match k % 4 {
        0 => c(1.0, 0.0),
        1 => c(0.0, 1.0),
        2 => c(-1.0, 0.0),
        _ => c(0.0, -1.0),
    }
}

/// `H·ψ` by the definition of DESIGN.md, term by term and basis state by basis state:
/// `out[b ⊕ x] += c · i^{n_Y} · (−1)^{|b ∧ z|} · ψ[b]`.
pub fn naive_apply(h: &PauliSum, psi: &[C64]) -> Vec<C64> {
    let mut out = vec![O; psi.len()];
    for &(p, coef) in h.terms() {
        let (x, z) = (p.x() as usize, p.z() as usize);
        let e = coef * i_pow((x & z).count_ones());
        for (b, &a) in psi.iter().enumerate() {
            let s = if (b & z).count_ones() % 2 == 0 {
                1.0
            } else {
                -1.0
            };
            out[b ^ x] += e * a * s;
        }
    }
    out
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A standard normal deviate (Box–Muller).
pub fn gauss(r: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>();
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A random complex vector (not normalised).
pub fn random_cvec(len: usize, seed: u64) -> Vec<C64> {
    let mut r = rng(seed);
    (0..len).map(|_| c(gauss(&mut r), gauss(&mut r))).collect()
}

/// A random real vector (not normalised).
pub fn random_rvec(len: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..len).map(|_| gauss(&mut r)).collect()
}

/// A uniformly random Pauli string on `n` qubits (each letter I, X, Y, Z with probability ¼).
pub fn random_string(r: &mut ChaCha8Rng, n: usize) -> PauliString {
    let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    PauliString::from_masks(r.random::<u64>() & mask, r.random::<u64>() & mask)
}

/// Kind of coefficients drawn by [`random_sum`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Coeffs {
    /// Real coefficients: a Hermitian operator.
    Hermitian,
    /// Complex coefficients: generally not Hermitian.
    Complex,
    /// Effective coefficients `c · i^{n_Y}` real: real in the Z basis (real coefficient on
    /// strings with an even number of Y, imaginary on strings with an odd number).
    RealInZ,
}

/// `terms` random strings on `n` qubits with Gaussian coefficients of the given kind, plus
/// (half the time) an identity term. Strings may repeat (the library must merge them).
pub fn random_sum(n: usize, terms: usize, kind: Coeffs, seed: u64) -> PauliSum {
    let mut r = rng(seed);
    let mut h = PauliSum::new(n);
    for _ in 0..terms {
        let p = random_string(&mut r, n);
        let a = gauss(&mut r);
        let coef = match kind {
            Coeffs::Hermitian => c(a, 0.0),
            Coeffs::Complex => c(a, gauss(&mut r)),
            Coeffs::RealInZ => {
                if p.n_y().is_multiple_of(2) {
                    c(a, 0.0)
                } else {
                    c(0.0, a)
                }
            }
        };
        h.add(p, coef);
    }
    if r.random::<bool>() {
        h.add(PauliString::IDENTITY, c(gauss(&mut r), 0.0));
    }
    h
}

/// `Σ c P` on `n` qubits from `("Z0 Z1", c)` pairs.
pub fn pauli_sum(n: usize, terms: &[(&str, f64)]) -> PauliSum {
    let mut s = PauliSum::new(n);
    for &(p, v) in terms {
        s.add(PauliString::parse(p).unwrap(), c(v, 0.0));
    }
    s
}

/// One Pauli string with coefficient 1 on `n` qubits (`pauli(2, "Z0 Z1")`).
pub fn pauli(n: usize, text: &str) -> PauliSum {
    pauli_sum(n, &[(text, 1.0)])
}

/// σ⁻ = |1⟩⟨0| = (X − iY)/2 on qubit `q` (DESIGN.md).
pub fn sigma_minus(n: usize, q: usize) -> PauliSum {
    let mut s = PauliSum::new(n);
    s.add(PauliString::from_masks(1 << q, 0), c(0.5, 0.0));
    s.add(PauliString::from_masks(1 << q, 1 << q), c(0.0, -0.5));
    s
}

/// `max_i |a_i − b_i|` of two real vectors of the same length.
pub fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The Euclidean norm of a real vector.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Least-squares slope of `ln y` against `ln x`: the order of a power law `y ∝ x^p`.
pub fn log_slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// Open transverse-field Ising chain `H = −J Σ_{i<N−1} Z_i Z_{i+1} − h Σ_i X_i`.
pub fn tfim_chain(n: usize, j: f64, h: f64) -> PauliSum {
    let mut s = PauliSum::new(n);
    for i in 0..n.saturating_sub(1) {
        s.add(
            PauliString::from_masks(0, (1 << i) | (1 << (i + 1))),
            c(-j, 0.0),
        );
    }
    for i in 0..n {
        s.add(PauliString::from_masks(1 << i, 0), c(-h, 0.0));
    }
    s
}

/// Periodic Heisenberg ring `H = Σ_i (X_i X_{i+1} + Y_i Y_{i+1} + Z_i Z_{i+1})`, `i+1` mod `N`.
pub fn heisenberg_ring(n: usize) -> PauliSum {
    let mut s = PauliSum::new(n);
    for i in 0..n {
        let m = (1u64 << i) | (1u64 << ((i + 1) % n));
        s.add(PauliString::from_masks(m, 0), c(1.0, 0.0));
        s.add(PauliString::from_masks(m, m), c(1.0, 0.0));
        s.add(PauliString::from_masks(0, m), c(1.0, 0.0));
    }
    s
}

/// Number of eigenvalues `< x` of the symmetric tridiagonal matrix with diagonal `a` and
/// off-diagonal `b` (Sturm sequence).
fn sturm_count(a: &[f64], b: &[f64], x: f64) -> usize {
    let mut count = 0;
    let mut q = 1.0;
    for i in 0..a.len() {
        let b2 = if i == 0 { 0.0 } else { b[i - 1] * b[i - 1] };
        q = a[i] - x - if i == 0 { 0.0 } else { b2 / q };
        if q == 0.0 {
            q = -f64::EPSILON * (x.abs() + 1.0) * 1e-3;
        }
        if q < 0.0 {
            count += 1;
        }
    }
    count
}

/// Eigenvalues of a symmetric tridiagonal matrix by bisection, ascending.
pub fn tridiagonal_eigenvalues(a: &[f64], b: &[f64]) -> Vec<f64> {
    let m = a.len();
    let bound = (0..m)
        .map(|i| {
            a[i].abs()
                + if i > 0 { b[i - 1].abs() } else { 0.0 }
                + if i + 1 < m { b[i].abs() } else { 0.0 }
        })
        .fold(0.0, f64::max)
        + 1.0;
    (0..m)
        .map(|k| {
            // The k-th eigenvalue: smallest x with count(x) > k.
            let (mut lo, mut hi) = (-bound, bound);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if sturm_count(a, b, mid) > k {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            0.5 * (lo + hi)
        })
        .collect()
}

/// Single-particle energies of the open TFIM chain: the singular values `s_k` of the `N × N`
/// upper bidiagonal matrix with diagonal `h` and superdiagonal `J`, ascending.
///
/// They are the non-negative eigenvalues of the Golub–Kahan matrix `[[0, B], [Bᵀ, 0]]`, which
/// after interleaving rows is tridiagonal with zero diagonal and off-diagonal
/// `h, J, h, J, …, h` (the Majorana hopping chain `γ₀ –h– γ₁ –J– γ₂ –h– γ₃ …`).
pub fn tfim_single_particle(n: usize, j: f64, h: f64) -> Vec<f64> {
    let a = vec![0.0; 2 * n];
    let b: Vec<f64> = (0..2 * n - 1)
        .map(|i| if i % 2 == 0 { h } else { j })
        .collect();
    let ev = tridiagonal_eigenvalues(&a, &b);
    // Eigenvalues come in ± pairs: the upper half, ascending.
    ev[n..].iter().map(|&e| e.abs()).collect()
}

/// Free-fermion spectrum of the open TFIM chain: `H = Σ_k s_k (2 n_k − 1)`, so
/// `E0 = −Σ_k s_k` and every level is `E0 + 2 Σ_{k∈S} s_k`.
pub fn tfim_exact_levels(n: usize, j: f64, h: f64) -> Vec<f64> {
    let s = tfim_single_particle(n, j, h);
    let e0: f64 = -s.iter().sum::<f64>();
    let mut levels: Vec<f64> = (0..1usize << n)
        .map(|occ| {
            e0 + 2.0
                * (0..n)
                    .filter(|k| (occ >> k) & 1 == 1)
                    .map(|k| s[k])
                    .sum::<f64>()
        })
        .collect();
    levels.sort_by(f64::total_cmp);
    levels
}

/// Runs `f` inside a rayon pool of `threads` threads.
pub fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
