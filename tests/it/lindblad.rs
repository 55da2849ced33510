//! Lindblad evolution of density matrices (src/evolve): analytic single-qubit results, a dense
//! Kronecker superoperator exponential as the oracle, monitors, memory errors, and the QuTiP
//! reference values of /work/shared/peers/bench_lindblad.py.

use qep::evolve::{evolve_lindblad, DensityMatrix, EvolveError, Lindbladian, Options};
use qep::pauli::{Letter, PauliString, PauliSum};
use qep::state::StateError;
use qep::C64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::oracle::{c, pauli, sigma_minus, tfim_chain};

fn single(n: usize, letter: Letter, q: usize, coef: C64) -> PauliSum {
    let mut s = PauliSum::new(n);
    s.add(PauliString::single(letter, q), coef);
    s
}

fn plus_state(n: usize) -> DensityMatrix {
    let d = 1usize << n;
    let psi = vec![c(1.0 / (d as f64).sqrt(), 0.0); d];
    DensityMatrix::from_pure(&psi).unwrap()
}

fn basis_state(n: usize, b: usize) -> DensityMatrix {
    let mut psi = vec![c(0.0, 0.0); 1 << n];
    psi[b] = c(1.0, 0.0);
    DensityMatrix::from_pure(&psi).unwrap()
}

// ---------- dense oracle (Kronecker products of 2×2 matrices, qubit 0 = least significant) ---

type Mat = Vec<Vec<C64>>;

fn letter_matrix(l: Letter) -> [[C64; 2]; 2] {
    let (o, z, i) = (c(1.0, 0.0), c(0.0, 0.0), c(0.0, 1.0));
    match l {
        Letter::I => [[o, z], [z, o]],
        Letter::X => [[z, o], [o, z]],
        Letter::Y => [[z, -i], [i, z]],
        Letter::Z => [[o, z], [z, -o]],
    }
}

/// `Σ_t a_t (M_{n−1} ⊗ … ⊗ M_0)`: entry `[r][c] = Π_q m_q[r_q][c_q]`.
fn dense(a: &PauliSum, n: usize) -> Mat {
    let d = 1usize << n;
    let mut m = vec![vec![c(0.0, 0.0); d]; d];
    for &(p, coef) in a.terms() {
        let ms: Vec<_> = (0..n).map(|q| letter_matrix(p.letter(q))).collect();
        for (r, row) in m.iter_mut().enumerate() {
            for (col, e) in row.iter_mut().enumerate() {
                let mut v = coef;
                for (q, mq) in ms.iter().enumerate() {
                    v *= mq[(r >> q) & 1][(col >> q) & 1];
                }
                *e += v;
            }
        }
    }
    m
}

fn matmul(a: &Mat, b: &Mat) -> Mat {
    let d = a.len();
    let mut m = vec![vec![c(0.0, 0.0); b[0].len()]; d];
    for i in 0..d {
        for k in 0..b.len() {
            let aik = a[i][k];
            if aik.norm_sqr() == 0.0 {
                continue;
            }
            for j in 0..b[0].len() {
                m[i][j] += aik * b[k][j];
            }
        }
    }
    m
}

fn adjoint(a: &Mat) -> Mat {
    let d = a.len();
    (0..d)
        .map(|i| (0..d).map(|j| a[j][i].conj()).collect())
        .collect()
}

fn identity(d: usize) -> Mat {
    (0..d)
        .map(|i| {
            (0..d)
                .map(|j| c(if i == j { 1.0 } else { 0.0 }, 0.0))
                .collect()
        })
        .collect()
}

/// `A ⊗ B`: `[(a1·dB + b1)][(a2·dB + b2)] = A[a1][a2] B[b1][b2]`.
fn kron(a: &Mat, b: &Mat) -> Mat {
    let (da, db) = (a.len(), b.len());
    let mut m = vec![vec![c(0.0, 0.0); da * db]; da * db];
    for a1 in 0..da {
        for a2 in 0..da {
            for b1 in 0..db {
                for b2 in 0..db {
                    m[a1 * db + b1][a2 * db + b2] = a[a1][a2] * b[b1][b2];
                }
            }
        }
    }
    m
}

fn transpose(a: &Mat) -> Mat {
    let d = a.len();
    (0..d).map(|i| (0..d).map(|j| a[j][i]).collect()).collect()
}

fn conj(a: &Mat) -> Mat {
    a.iter()
        .map(|r| r.iter().map(|v| v.conj()).collect())
        .collect()
}

fn add_scaled(acc: &mut Mat, a: &Mat, s: C64) {
    for (ra, rb) in acc.iter_mut().zip(a) {
        for (x, y) in ra.iter_mut().zip(rb) {
            *x += s * y;
        }
    }
}

/// Column-stacking vec: `vec(ρ)[c·d + r] = ρ[r][c]`, so `vec(AρB) = (Bᵀ ⊗ A) vec(ρ)`.
fn vec_of(rho: &[C64], d: usize) -> Vec<C64> {
    let mut v = vec![c(0.0, 0.0); d * d];
    for r in 0..d {
        for col in 0..d {
            v[col * d + r] = rho[r * d + col];
        }
    }
    v
}

fn unvec(v: &[C64], d: usize) -> Vec<C64> {
    let mut rho = vec![c(0.0, 0.0); d * d];
    for r in 0..d {
        for col in 0..d {
            rho[r * d + col] = v[col * d + r];
        }
    }
    rho
}

fn matvec(a: &Mat, v: &[C64]) -> Vec<C64> {
    a.iter()
        .map(|row| row.iter().zip(v).map(|(x, y)| x * y).sum())
        .collect()
}

/// Dense superoperator `S = −i(I⊗H − Hᵀ⊗I) + Σ γ (L̄⊗L − ½ I⊗L†L − ½ (L†L)ᵀ⊗I)`.
fn superoperator(h: &PauliSum, jumps: &[(PauliSum, f64)], n: usize) -> Mat {
    let d = 1usize << n;
    let id = identity(d);
    let hd = dense(h, n);
    let mut s = kron(&id, &hd);
    add_scaled(&mut s, &kron(&transpose(&hd), &id), c(-1.0, 0.0));
    let mut s2 = vec![vec![c(0.0, 0.0); d * d]; d * d];
    add_scaled(&mut s2, &s, c(0.0, -1.0));
    for (l, g) in jumps {
        let ld = dense(l, n);
        let k = matmul(&adjoint(&ld), &ld);
        add_scaled(&mut s2, &kron(&conj(&ld), &ld), c(*g, 0.0));
        add_scaled(&mut s2, &kron(&id, &k), c(-0.5 * g, 0.0));
        add_scaled(&mut s2, &kron(&transpose(&k), &id), c(-0.5 * g, 0.0));
    }
    s2
}

/// `e^{A}` by scaling and squaring with a degree-20 Taylor polynomial.
fn expm(a: &Mat) -> Mat {
    let norm = a
        .iter()
        .map(|r| r.iter().map(|v| v.norm()).sum::<f64>())
        .fold(0.0, f64::max);
    let s = if norm > 0.25 {
        (norm / 0.25).log2().ceil() as i32
    } else {
        0
    };
    let mut scaled = a.clone();
    let f = 0.5f64.powi(s);
    scaled
        .iter_mut()
        .for_each(|r| r.iter_mut().for_each(|v| *v *= f));
    let d = a.len();
    let mut result = identity(d);
    let mut term = identity(d);
    for k in 1..=20 {
        term = matmul(&term, &scaled);
        term.iter_mut()
            .for_each(|r| r.iter_mut().for_each(|v| *v /= k as f64));
        add_scaled(&mut result, &term, c(1.0, 0.0));
    }
    for _ in 0..s {
        result = matmul(&result, &result);
    }
    result
}

fn random_model(n: usize, seed: u64) -> (PauliSum, Vec<(PauliSum, f64)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut h = PauliSum::new(n);
    for q in 0..n {
        h.add(
            PauliString::single(Letter::X, q),
            c(rng.random_range(-1.0..1.0), 0.0),
        );
        h.add(
            PauliString::single(Letter::Z, q),
            c(rng.random_range(-1.0..1.0), 0.0),
        );
        if q + 1 < n {
            for l in ["X", "Z"] {
                let p = PauliString::parse(&format!("{l}{q} {l}{}", q + 1)).unwrap();
                h.add(p, c(rng.random_range(-1.0..1.0), 0.0));
            }
        }
    }
    let mut jumps = Vec::new();
    for q in 0..n {
        jumps.push((sigma_minus(n, q), rng.random_range(0.05..0.4)));
    }
    jumps.push((single(n, Letter::Z, 0, c(1.0, 0.0)), 0.15));
    (h, jumps)
}

fn random_mixed(n: usize, seed: u64) -> DensityMatrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = 1usize << n;
    let a: Mat = (0..d)
        .map(|_| {
            (0..d)
                .map(|_| c(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
                .collect()
        })
        .collect();
    let m = matmul(&a, &adjoint(&a));
    let tr: f64 = (0..d).map(|i| m[i][i].re).sum();
    let data: Vec<C64> = m.iter().flatten().map(|v| v / tr).collect();
    DensityMatrix::from_entries(n, data)
}

fn max_diff(a: &[C64], b: &[C64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------------------------

#[test]
fn kronecker_vec_identity_holds_on_two_qubits() {
    // Premise of the oracle: vec(AρB) = (Bᵀ ⊗ A) vec(ρ) with column stacking.
    let n = 2;
    let d = 4;
    let rho = random_mixed(n, 1);
    let mut a = pauli(n, "X0 Y1");
    a.add(PauliString::parse("Z0").unwrap(), c(0.3, -0.2));
    let b = sigma_minus(n, 1);
    let (ad, bd) = (dense(&a, n), dense(&b, n));
    let rm: Mat = (0..d)
        .map(|r| rho.as_slice()[r * d..r * d + d].to_vec())
        .collect();
    let direct: Vec<C64> = matmul(&matmul(&ad, &rm), &bd)
        .into_iter()
        .flatten()
        .collect();
    let via = unvec(
        &matvec(&kron(&transpose(&bd), &ad), &vec_of(rho.as_slice(), d)),
        d,
    );
    assert!(max_diff(&direct, &via) < 1e-14);
    // σ⁻ = |1⟩⟨0| on qubit 1: maps |00⟩ (index 0) to |10⟩ (index 2).
    assert_eq!(dense(&b, n)[2][0], c(1.0, 0.0));
    assert_eq!(dense(&b, n)[0][2], c(0.0, 0.0));
}

#[test]
fn left_right_products_and_expectation_match_dense() {
    let n = 3;
    let d = 8;
    let rho = random_mixed(n, 7);
    let mut a = PauliSum::new(n);
    a.add(PauliString::parse("X0 Y2").unwrap(), c(0.4, 0.3));
    a.add(PauliString::parse("Y0 Z1").unwrap(), c(-0.7, 0.1));
    a.add(PauliString::parse("Z2").unwrap(), c(0.2, 0.0));
    a.add(PauliString::parse("Y1").unwrap(), c(0.0, 1.1));
    let ad = dense(&a, n);
    let rm: Mat = (0..d)
        .map(|r| rho.as_slice()[r * d..r * d + d].to_vec())
        .collect();
    let left: Vec<C64> = matmul(&ad, &rm).into_iter().flatten().collect();
    let right: Vec<C64> = matmul(&rm, &ad).into_iter().flatten().collect();
    assert!(max_diff(rho.left_mul(&a).unwrap().as_slice(), &left) < 1e-14);
    assert!(max_diff(rho.right_mul(&a).unwrap().as_slice(), &right) < 1e-14);
    let right_adj: Vec<C64> = matmul(&rm, &adjoint(&ad)).into_iter().flatten().collect();
    let mut out = vec![c(0.0, 0.0); d * d];
    qep::evolve::GroupedOperator::new(&a, n).right_adjoint_acc(
        rho.as_slice(),
        &mut out,
        c(1.0, 0.0),
    );
    assert!(max_diff(&out, &right_adj) < 1e-14);
    let tr: C64 = (0..d).map(|i| right[i * d + i]).sum();
    assert!((rho.expectation(&a) - tr).norm() < 1e-14);
    assert!((rho.trace() - c(1.0, 0.0)).norm() < 1e-14);
    let p2: f64 = (0..d).map(|i| matmul(&rm, &rm)[i][i].re).sum();
    assert!((rho.purity() - p2).abs() < 1e-14);
}

#[test]
fn driven_damped_qubit_reaches_analytic_steady_state() {
    // H = (Ω/2) X, L = σ⁻ = |1⟩⟨0| at rate γ. Heisenberg picture with D†(A) =
    // γ(L†AL − ½{L†L, A}), L†L = |0⟩⟨0| = (1 + Z)/2:
    //   dx/dt = −γx/2,  dy/dt = −Ωz − γy/2,  dz/dt = Ωy − γ(1 + z).
    // Steady state: x = 0, y = −2Ωz/γ, z = −γ²/(γ² + 2Ω²), so y = 2γΩ/(γ² + 2Ω²).
    let (gamma, omega) = (0.8, 1.3);
    let h = single(1, Letter::X, 0, c(omega / 2.0, 0.0));
    let jumps = [(sigma_minus(1, 0), gamma)];
    let den = gamma * gamma + 2.0 * omega * omega;
    let (x_ss, y_ss, z_ss) = (0.0, 2.0 * gamma * omega / den, -gamma * gamma / den);
    let obs = [pauli(1, "X0"), pauli(1, "Y0"), pauli(1, "Z0")];
    // Slowest rate is ≥ γ/2 = 0.4: e^{−0.4·80} ≈ 1e-14.
    let tr = evolve_lindblad(
        &h,
        &jumps,
        &basis_state(1, 0),
        &[80.0],
        &obs,
        &Options::default(),
    )
    .unwrap();
    let (x, y, z) = (
        tr.observables[0][0],
        tr.observables[1][0],
        tr.observables[2][0],
    );
    eprintln!("steady state: ({x:.10}, {y:.10}, {z:.10}) vs ({x_ss}, {y_ss:.10}, {z_ss:.10})");
    assert!((x - x_ss).abs() < 1e-6);
    assert!((y - y_ss).abs() < 1e-6);
    assert!((z - z_ss).abs() < 1e-6);
    // The signs are not trivial: y > 0 and z < 0 with this convention.
    assert!(y_ss > 0.1 && z_ss < -0.1);
    // L(ρ_ss) = 0 for the analytic state ρ = (1 + xX + yY + zZ)/2.
    let rho_ss = DensityMatrix::from_entries(
        1,
        vec![
            c((1.0 + z_ss) / 2.0, 0.0),
            c(x_ss / 2.0, -y_ss / 2.0),
            c(x_ss / 2.0, y_ss / 2.0),
            c((1.0 - z_ss) / 2.0, 0.0),
        ],
    );
    let mut out = vec![c(0.0, 0.0); 4];
    Lindbladian::new(&h, &jumps)
        .unwrap()
        .apply(rho_ss.as_slice(), &mut out);
    assert!(out.iter().all(|v| v.norm() < 1e-15), "{out:?}");
}

#[test]
fn pure_decay_follows_exponential_law() {
    // Two qubits with different rates, H = 0: ⟨Z_q⟩(t) = 2e^{−γ_q t} − 1 from |00⟩.
    let n = 2;
    let (g0, g1) = (0.7, 0.25);
    let h = PauliSum::new(n);
    let jumps = [(sigma_minus(n, 0), g0), (sigma_minus(n, 1), g1)];
    let times: Vec<f64> = (0..=20).map(|i| 0.5 * i as f64).collect();
    let obs = [pauli(n, "Z0"), pauli(n, "Z1")];
    let tr = evolve_lindblad(
        &h,
        &jumps,
        &basis_state(n, 0),
        &times,
        &obs,
        &Options::default(),
    )
    .unwrap();
    let mut worst = 0.0f64;
    for (i, &t) in times.iter().enumerate() {
        worst = worst.max((tr.observables[0][i] - (2.0 * (-g0 * t).exp() - 1.0)).abs());
        worst = worst.max((tr.observables[1][i] - (2.0 * (-g1 * t).exp() - 1.0)).abs());
    }
    eprintln!(
        "pure decay: worst |Δ⟨Z⟩| = {worst:.2e}, stats {:?}",
        tr.stats
    );
    assert!(worst < 1e-8);
}

#[test]
fn lindblad_matches_dense_superoperator_exponential() {
    for (n, seed) in [(2usize, 11u64), (3, 12)] {
        let d = 1usize << n;
        let (h, jumps) = random_model(n, seed);
        let s = superoperator(&h, &jumps, n);
        let rho0 = random_mixed(n, seed + 100);
        let v0 = vec_of(rho0.as_slice(), d);
        // The matrix-free right-hand side equals S·vec(ρ).
        let mut out = vec![c(0.0, 0.0); d * d];
        Lindbladian::new(&h, &jumps)
            .unwrap()
            .apply(rho0.as_slice(), &mut out);
        let rhs_err = max_diff(&out, &unvec(&matvec(&s, &v0), d));
        assert!(rhs_err < 1e-13, "n = {n}: RHS differs by {rhs_err:.2e}");
        let (mut out_h, mut scratch) = (vec![c(0.0, 0.0); d * d], vec![c(0.0, 0.0); d * d]);
        Lindbladian::new(&h, &jumps).unwrap().apply_hermitian(
            rho0.as_slice(),
            &mut out_h,
            &mut scratch,
        );
        assert!(max_diff(&out_h, &out) < 1e-13);
        let times = [1.0, 3.0];
        let tr = evolve_lindblad(&h, &jumps, &rho0, &times, &[], &Options::default()).unwrap();
        let mut rho = rho0.clone();
        for &t in &times {
            let mut st = s.clone();
            st.iter_mut()
                .for_each(|r| r.iter_mut().for_each(|v| *v *= t));
            let exact = unvec(&matvec(&expm(&st), &v0), d);
            rho = evolve_lindblad(&h, &jumps, &rho0, &[t], &[], &Options::default())
                .unwrap()
                .final_state;
            let err = max_diff(rho.as_slice(), &exact);
            eprintln!("n = {n}, t = {t}: max |ρ − e^{{St}}ρ₀| = {err:.2e}");
            assert!(err < 1e-8, "n = {n}, t = {t}: {err:.2e}");
        }
        // The two-time run ends in the same state as the single run to t = 3.
        assert!(max_diff(tr.final_state.as_slice(), rho.as_slice()) < 1e-8);
    }
}

#[test]
fn trace_hermiticity_and_positivity_are_preserved_on_four_qubits() {
    let n = 4;
    let h = tfim_chain(n, 1.0, 0.7);
    let mut jumps: Vec<(PauliSum, f64)> = (0..n).map(|q| (sigma_minus(n, q), 0.2)).collect();
    jumps.push((single(n, Letter::Z, 2, c(1.0, 0.0)), 0.3));
    let times: Vec<f64> = (0..=20).map(|i| 0.5 * i as f64).collect();
    let tr = evolve_lindblad(&h, &jumps, &plus_state(n), &times, &[], &Options::default()).unwrap();
    let eig = tr.min_eigenvalue.as_ref().unwrap();
    let trace_err = tr.trace.iter().map(|t| (t - 1.0).abs()).fold(0.0, f64::max);
    let herm = tr.hermiticity_defect.iter().copied().fold(0.0, f64::max);
    let min_eig = eig.iter().copied().fold(f64::INFINITY, f64::min);
    eprintln!(
        "4 qubits: |Tr ρ − 1| ≤ {trace_err:.2e}, herm ≤ {herm:.2e}, λ_min ≥ {min_eig:.2e}, \
         purity {:.4} → {:.4}, {:?}",
        tr.purity[0],
        tr.purity[times.len() - 1],
        tr.stats
    );
    assert!(trace_err < 1e-10);
    assert!(herm < 1e-12);
    assert!(min_eig >= -1e-9);
    // The premise: the state did evolve (the pure initial state became mixed).
    assert!((tr.purity[0] - 1.0).abs() < 1e-12 && tr.purity[times.len() - 1] < 0.9);
}

#[test]
fn yaml_sigma_minus_jumps_decay_to_one() {
    // The parser's `sigma-` follows DESIGN.md: from |00⟩, ⟨Z_q⟩ = 2e^{−γt} − 1 on every qubit.
    let text =
        "qubits: 2\nterms: []\nlindblad:\n  jumps:\n    - {op: sigma-, qubits: all, rate: 0.3}\n";
    let model = qep::hamiltonian::parse_str(text, std::path::Path::new("decay.yaml")).unwrap();
    let jumps = qep::evolve::jump_list(&model.settings.jumps);
    assert_eq!(jumps.len(), 2);
    let obs = [pauli(2, "Z0"), pauli(2, "Z1")];
    let tr = evolve_lindblad(
        &PauliSum::new(2),
        &jumps,
        &basis_state(2, 0),
        &[2.0],
        &obs,
        &Options::default(),
    )
    .unwrap();
    let expect = 2.0 * (-0.3f64 * 2.0).exp() - 1.0;
    assert!((tr.observables[0][0] - expect).abs() < 1e-8);
    assert!((tr.observables[1][0] - expect).abs() < 1e-8);
}

#[test]
fn twenty_qubit_density_matrix_is_a_memory_error() {
    let err = DensityMatrix::zeros(20).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, qep::state::StateError::Memory(_)), "{msg}");
    assert!(msg.contains("16.0 TiB"), "{msg}");
    assert!(msg.contains("20-qubit density matrix"), "{msg}");
    let lib: qep::Error = err.into();
    assert!(lib.to_string().contains("16.0 TiB"));
}

#[test]
fn bad_inputs_are_errors() {
    let h = tfim_chain(2, 1.0, 1.0);
    let rho = plus_state(2);
    let opts = Options::default();
    let e = evolve_lindblad(&h, &[(sigma_minus(2, 0), -1.0)], &rho, &[1.0], &[], &opts);
    assert!(matches!(e, Err(EvolveError::BadRate { index: 0, .. })));
    let e = evolve_lindblad(&h, &[], &rho, &[1.0, 0.5], &[], &opts);
    assert!(matches!(e, Err(EvolveError::BadTimes { index: 1, .. })));
    let e = evolve_lindblad(&h, &[], &plus_state(3), &[1.0], &[], &opts);
    assert!(matches!(
        e,
        Err(EvolveError::State(StateError::QubitMismatch { .. }))
    ));
    let e = evolve_lindblad(&h, &[], &rho, &[1.0], &[sigma_minus(2, 0)], &opts);
    assert!(matches!(
        e,
        Err(EvolveError::NonHermitianObservable { index: 0, .. })
    ));
    // A step budget that cannot be met is an error, not a silent truncation.
    let tight = Options {
        max_steps: 3,
        ..Options::default()
    };
    let e = evolve_lindblad(&h, &[], &rho, &[10.0], &[], &tight);
    assert!(matches!(e, Err(EvolveError::TooManySteps { .. })), "{e:?}");
    let small = Options {
        h_min: 1.0,
        h_init: Some(5.0),
        ..Options::default()
    };
    let e = evolve_lindblad(&h, &[], &rho, &[10.0], &[], &small);
    assert!(matches!(e, Err(EvolveError::StepTooSmall { .. })), "{e:?}");
    assert!(e.unwrap_err().to_string().contains("minimum"));
}

/// The model of /work/shared/peers/bench_lindblad.py: H = −Σ Z_iZ_{i+1} − Σ X_i (open),
/// σ⁻ at rate 0.1 on every qubit, ρ₀ = |+…+⟩⟨+…+|, t = 0, 0.1, …, 10, observable Z₀.
fn peer_chain(
    n: usize,
    atol: f64,
    rtol: f64,
) -> (f64, f64, std::time::Duration, qep::evolve::StepStats) {
    let h = tfim_chain(n, 1.0, 1.0);
    let jumps: Vec<(PauliSum, f64)> = (0..n).map(|q| (sigma_minus(n, q), 0.1)).collect();
    let times: Vec<f64> = (0..=100).map(|i| i as f64 / 10.0).collect();
    let opts = Options {
        positivity: false,
        atol,
        rtol,
        ..Options::default()
    };
    let rho0 = plus_state(n);
    let t0 = std::time::Instant::now();
    let tr = evolve_lindblad(&h, &jumps, &rho0, &times, &[pauli(n, "Z0")], &opts).unwrap();
    let el = t0.elapsed();
    (tr.observables[0][10], tr.observables[0][100], el, tr.stats)
}

#[test]
fn dissipative_tfim_chain_matches_qutip_at_four_qubits() {
    // QuTiP mesolve (atol 1e-8, rtol 1e-6), results-baseline.jsonl, n = 4.
    let (z1, z10, _, _) = peer_chain(4, 1e-10, 1e-8);
    eprintln!(
        "n = 4: ⟨Z0⟩(1) = {z1:.10} (QuTiP −0.08722343), ⟨Z0⟩(10) = {z10:.10} (QuTiP −0.02869962)"
    );
    assert!((z1 - -0.087_223_433_194_447_97).abs() < 2e-6);
    assert!((z10 - -0.028_699_623_814_379_044).abs() < 2e-6);
}

#[test]
#[ignore = "benchmark: 8-qubit dissipative TFIM vs QuTiP mesolve (3.1 s)"]
fn bench_dissipative_tfim_chain() {
    // Defaults (1e-10, 1e-8) and QuTiP's mesolve tolerances (1e-8, 1e-6).
    for (n, atol, rtol) in [
        (6usize, 1e-10, 1e-8),
        (8, 1e-10, 1e-8),
        (8, 1e-8, 1e-6),
        (10, 1e-8, 1e-6),
    ] {
        let (z1, z10, el, stats) = peer_chain(n, atol, rtol);
        eprintln!(
            "n = {n}, atol {atol:e}, rtol {rtol:e}: {:.3} s, ⟨Z0⟩(1) = {z1:.10}, \
             ⟨Z0⟩(10) = {z10:.10}, {stats:?}",
            el.as_secs_f64()
        );
    }
}

#[test]
fn the_lindbladian_is_a_linear_operator_on_vectorised_density_matrices() {
    use qep::operator::LinearOperator;
    // Two qubits: H = Z0 Z1 + 0.5 X0, decay on qubit 1 at rate 0.3.
    let mut h = PauliSum::new(2);
    h.add(PauliString::parse("Z0 Z1").unwrap(), 1.0);
    h.add(PauliString::parse("X0").unwrap(), 0.5);
    let mut l = PauliSum::new(2);
    l.add(PauliString::parse("X1").unwrap(), 0.5);
    l.add(PauliString::parse("Y1").unwrap(), c(0.0, 0.5));
    let lind = Lindbladian::new(&h, &[(l, 0.3)]).unwrap();
    assert_eq!(LinearOperator::<C64>::dim(&lind), 16);
    assert!(!LinearOperator::<C64>::is_hermitian(&lind));
    let m = LinearOperator::<C64>::to_dense(&lind).unwrap();
    // Trace preservation: Tr L(ρ) = 0 for every ρ, so the rows of the diagonal entries sum to
    // zero column by column.
    for col in 0..16 {
        let tr: C64 = (0..4).map(|i| m[(i * 4 + i) * 16 + col]).sum();
        assert!(tr.norm() < 1e-12, "column {col}: Tr = {tr}");
    }
    // The norm bound holds for random inputs.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let x: Vec<C64> = (0..16).map(|_| c(rng.random(), rng.random())).collect();
    let mut y = vec![c(0.0, 0.0); 16];
    LinearOperator::apply(&lind, &x, &mut y);
    let nx = x.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    let ny = y.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
    assert!(ny <= LinearOperator::<C64>::norm_bound(&lind) * nx);
    assert!(ny > 0.0);
    assert!(LinearOperator::<C64>::cost_hint(&lind) >= 16);
}

// ---------- library: the runner behind `qep evolve` ----------

/// [`crate::common::DECAY_YAML`], parsed.
fn decay_and_rabi() -> qep::hamiltonian::Model {
    qep::hamiltonian::parse_str(
        crate::common::DECAY_YAML,
        std::path::Path::new("decay.yaml"),
    )
    .unwrap()
}

#[test]
fn library_evolve_follows_decay_and_rabi_oscillation() {
    use qep::evolve::runner::{evolve, Evolution, EvolveMethod, EvolveSettings};
    let settings = EvolveSettings {
        initial: "zero".into(),
        times: vec![0.5, 1.0, 2.0],
        observe: vec!["Z1".into(), "Z0".into()],
        ..EvolveSettings::default()
    };
    let model = decay_and_rabi();
    // A model with jumps evolves its density matrix by default.
    let Evolution::Rho(r) = evolve(&model, &settings, &qep::report::no_progress).unwrap() else {
        panic!("expected the density-matrix evolution");
    };
    assert_eq!(r.jumps, 1);
    for (i, t) in [0.5f64, 1.0, 2.0].into_iter().enumerate() {
        let (z1, z0) = (r.observables["Z1"][i], r.observables["Z0"][i]);
        assert!(
            (z1 - (2.0 * (-0.5 * t).exp() - 1.0)).abs() < 1e-8,
            "Z1({t}) = {z1}"
        );
        assert!((z0 - (1.3 * t).cos()).abs() < 1e-8, "Z0({t}) = {z0}");
        assert!((r.trace[i] - 1.0).abs() < 1e-12);
    }
    // The trajectories agree within 5 standard errors.
    let traj = EvolveSettings {
        method: Some(EvolveMethod::Trajectories),
        trajectories: 200,
        seed: 7,
        ..settings.clone()
    };
    let Evolution::Trajectories(m) = evolve(&model, &traj, &qep::report::no_progress).unwrap()
    else {
        panic!("expected trajectories");
    };
    assert_eq!(m.trajectories, 200);
    for i in 0..3 {
        let (mean, se) = (m.observables["Z1"][i], m.std_errors["Z1"][i]);
        assert!(se > 0.0 && (mean - r.observables["Z1"][i]).abs() < 5.0 * se + 1e-9);
    }
    let (seed, provenance) = Evolution::Trajectories(m).provenance(&traj);
    assert_eq!(seed, Some(7));
    assert_eq!(provenance["trajectories"], 200);
    // The Krylov propagator evolves pure states only.
    let krylov = EvolveSettings {
        method: Some(EvolveMethod::Krylov),
        ..settings
    };
    let err = evolve(&model, &krylov, &qep::report::no_progress).unwrap_err();
    assert!(
        err.to_string()
            .contains("the model has 1 Lindblad jump operators"),
        "{err}"
    );
}
