//! Tests for the small dense and matrix-free kernels of `linalg` shared by several engines:
//! the Chebyshev heat-kernel propagator against a dense `e^{−τH}` from the eigendecomposition,
//! through two different operators (generic over `LinearOperator`), and the one Cholesky
//! factorisation against `L·Lᵀ` reconstruction, a textbook factor and a solve.

use qep::ep::typicality::spectral_bounds;
use qep::linalg::{cholesky, eigh_dense, solve_cholesky, ChebyshevError, ChebyshevExp};
use qep::operator::{DenseOperator, XMaskOperator};
use qep::state::StateVector;
use qep::C64;

use crate::oracle::{random_sum, Coeffs};

/// `e^{−τ(H − E_s)} ψ = Σ_n e^{−τ(E_n − E_s)} ⟨n|ψ⟩ |n⟩` from a dense eigendecomposition.
fn dense_heat_kernel(h: &[C64], dim: usize, tau: f64, shift: f64, psi: &[C64]) -> Vec<C64> {
    let (e, v) = eigh_dense(h, dim).unwrap();
    let mut out = vec![C64::new(0.0, 0.0); dim];
    for (en, vn) in e.iter().zip(&v) {
        let ov: C64 = vn.iter().zip(psi).map(|(a, b)| a.conj() * b).sum();
        let f = (-tau * (en - shift)).exp();
        for (x, a) in out.iter_mut().zip(vn) {
            *x += a * ov * f;
        }
    }
    out
}

fn rel_err(a: &[C64], b: &[C64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).norm_sqr()).sum();
    let n: f64 = b.iter().map(|y| y.norm_sqr()).sum();
    (d / n).sqrt()
}

#[test]
fn chebyshev_heat_kernel_matches_dense_exponential_on_any_operator() {
    // A random Hermitian 6-qubit Pauli sum (complex entries: Y strings), 30 terms.
    let n = 6;
    let h = random_sum(n, 30, Coeffs::Hermitian, 17);
    let pauli = XMaskOperator::new(&h).unwrap();
    let dim = pauli.dim();
    let matrix = pauli.to_dense().unwrap();
    let dense = DenseOperator::new(dim, matrix.clone());
    let bounds = spectral_bounds(&h, &pauli, 64, 9).unwrap();
    let psi = StateVector::<C64>::random(n, 4).unwrap().into_vec();
    for tau in [0.0, 0.1, 1.0, 5.0, 20.0] {
        let cheb = ChebyshevExp::new(bounds, tau, 1e-15, dim).unwrap();
        let exact = dense_heat_kernel(&matrix, dim, tau, cheb.shift, &psi);
        let mut via_pauli = vec![C64::new(0.0, 0.0); dim];
        let mut via_dense = vec![C64::new(0.0, 0.0); dim];
        cheb.apply_into(&pauli, &psi, &mut via_pauli).unwrap();
        cheb.apply_into(&dense, &psi, &mut via_dense).unwrap();
        let (ep, ed) = (rel_err(&via_pauli, &exact), rel_err(&via_dense, &exact));
        assert!(
            ep < 1e-12 && ed < 1e-12,
            "τ = {tau}, order {}: relative error {ep:.2e} (Pauli), {ed:.2e} (dense)",
            cheb.order()
        );
    }
    // At τ = 0 the series is the identity: one coefficient, exactly 1.
    let id = ChebyshevExp::new(bounds, 0.0, 1e-15, dim).unwrap();
    assert_eq!(id.order(), 0);
    assert_eq!(id.coeffs, vec![1.0]);
}

#[test]
fn chebyshev_rejects_bad_tau_and_bounds_that_miss_the_spectrum() {
    let h = random_sum(4, 12, Coeffs::Hermitian, 3);
    let op = XMaskOperator::new(&h).unwrap();
    let bounds = spectral_bounds(&h, &op, 40, 1).unwrap();
    let e = ChebyshevExp::new(bounds, -1.0, 1e-12, op.dim()).unwrap_err();
    assert!(
        matches!(e, ChebyshevError::BadTau { tau } if tau == -1.0),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "tau = -1 is not valid; expected a finite number > 0"
    );
    // Bounds squeezed to the upper half of the spectrum: the series grows on the levels below.
    let mut narrow = bounds;
    narrow.lower = 0.5 * (bounds.ritz_min + bounds.ritz_max);
    narrow.ritz_min = narrow.lower;
    let cheb = ChebyshevExp::new(narrow, 2.0, 1e-12, op.dim()).unwrap();
    let psi = StateVector::<C64>::random(4, 2).unwrap().into_vec();
    let mut out = vec![C64::new(0.0, 0.0); op.dim()];
    let e = cheb.apply_into(&op, &psi, &mut out).unwrap_err();
    match e {
        ChebyshevError::BoundsViolated { ratio, lower, .. } => {
            assert!(ratio > 1.0, "ratio {ratio}");
            assert_eq!(lower, narrow.lower);
        }
        other => panic!("expected BoundsViolated, got {other:?}"),
    }
    // Typicality words it as before.
    let t: qep::ep::typicality::TypicalityError = ChebyshevExp::new(bounds, f64::NAN, 1e-12, 16)
        .unwrap_err()
        .into();
    assert_eq!(
        t.to_string(),
        "tau = NaN is not valid; expected a finite number > 0"
    );
}

#[test]
fn cholesky_of_a_textbook_matrix_is_exact() {
    // A = L Lᵀ with L = [[2,0,0],[6,1,0],[−8,5,3]]: every step is exact in floating point.
    let a = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
    let l = cholesky(&a, 3).unwrap();
    assert_eq!(l, vec![2.0, 0.0, 0.0, 6.0, 1.0, 0.0, -8.0, 5.0, 3.0]);
    // A x = b with x = (1, −2, 3): b = A x.
    let x = solve_cholesky(&l, 3, &[-68.0, -191.0, 364.0]);
    for (got, want) in x.iter().zip([1.0, -2.0, 3.0]) {
        assert!((got - want).abs() < 1e-12, "{x:?}");
    }
}

#[test]
fn cholesky_reconstructs_random_spd_matrices_and_stops_at_the_first_bad_pivot() {
    use rand::{Rng, SeedableRng};
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for n in [1, 2, 7, 20] {
        // A = BᵀB + I: symmetric positive definite.
        let b: Vec<f64> = (0..n * n).map(|_| r.random_range(-1.0..1.0)).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| b[k * n + i] * b[k * n + j]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let l = cholesky(&a, n).unwrap();
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..n {
            for j in 0..n {
                if j > i {
                    assert_eq!(l[i * n + j], 0.0, "upper triangle of L");
                }
                let llt: f64 = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                assert!(
                    (llt - a[i * n + j]).abs() < 1e-13 * scale,
                    "n = {n}: (L Lᵀ)[{i}][{j}] = {llt} vs {}",
                    a[i * n + j]
                );
            }
        }
        // Solve against A x = b for a known x.
        let x: Vec<f64> = (0..n).map(|i| i as f64 - 0.5).collect();
        let rhs: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| a[i * n + j] * x[j]).sum())
            .collect();
        let got = solve_cholesky(&l, n, &rhs);
        let err = got
            .iter()
            .zip(&x)
            .fold(0.0f64, |m, (g, w)| m.max((g - w).abs()));
        assert!(err < 1e-10, "n = {n}: solve error {err:.2e}");
    }
    // [[1, 2], [2, 1]] has eigenvalues 3 and −1: the second pivot is 1 − 4 = −3.
    let e = cholesky(&[1.0, 2.0, 2.0, 1.0], 2).unwrap_err();
    assert_eq!((e.index, e.pivot), (1, -3.0));
    assert_eq!(e.factor[..1], [1.0]);
    assert_eq!(e.factor[2], 2.0);
    assert!(e.to_string().contains("pivot 1"), "{e}");
}
