//! The ground state of a model, found matrix-free by Lanczos and checked against an exact
//! formula.
//!
//! `hamiltonians/tfim_chain.yaml` is the open transverse-field Ising chain
//! `H = −J Σ Z_i Z_{i+1} − h Σ X_i` of 12 spins at `h = J = 1`. A Jordan–Wigner transformation
//! maps it to free fermions, whose ground energy is `E₀ = −Σ_k s_k` with `s_k` the singular
//! values of the `N × N` bidiagonal matrix `M` (`M_ii = h`, `M_{i,i+1} = J`). This example
//! compiles the YAML to a Pauli sum, applies it matrix-free, runs Lanczos for the two lowest
//! levels, and compares `E₀` with the formula.
//!
//! Run: `cargo run --release --example ground_state`

use qep::linalg::{eigh_dense, lowest_eigenpairs, LanczosParams};
use qep::operator::XMaskOperator;
use qep::C64;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = qep::hamiltonian::load(Path::new("hamiltonians/tfim_chain.yaml"))?;
    // No trainable terms and no example: H is the fixed part alone.
    let sum = model.hamiltonian(&model.theta(), None, 0.0)?;
    let op = XMaskOperator::new(&sum)?;
    println!(
        "{}: {} qubits, {} Pauli terms in {} X-mask groups",
        model.name,
        op.qubits(),
        op.n_terms(),
        op.n_groups()
    );

    let params = LanczosParams {
        k: 2,
        tol: 1e-10,
        ..LanczosParams::default()
    };
    let spectrum = lowest_eigenpairs::<f64>(&op, &params, None)?;
    for (e, r) in spectrum.energies.iter().zip(&spectrum.residuals) {
        println!("  E = {e:.12}   ‖Hψ − Eψ‖ = {r:.1e}");
    }
    println!(
        "  gap E₁ − E₀ = {:.6}, {} H·ψ products",
        spectrum.gap().unwrap_or(f64::NAN),
        spectrum.matvecs
    );

    // Free-fermion ground energy: s_k² are the eigenvalues of M Mᵀ.
    let (n, h, j) = (op.qubits(), 1.0, 1.0);
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        m[i * n + i] = h;
        if i + 1 < n {
            m[i * n + i + 1] = j;
        }
    }
    let mmt: Vec<C64> = (0..n * n)
        .map(|ij| {
            let (a, b) = (ij / n, ij % n);
            C64::new((0..n).map(|k| m[a * n + k] * m[b * n + k]).sum(), 0.0)
        })
        .collect();
    let (s2, _) = eigh_dense(&mmt, n)?;
    let exact: f64 = -s2.iter().map(|x| x.max(0.0).sqrt()).sum::<f64>();
    let err = (spectrum.energies[0] - exact).abs();
    println!("  free fermions: E₀ = {exact:.12}  (|Lanczos − exact| = {err:.1e})");
    assert!(
        err < 1e-9,
        "Lanczos and the free-fermion formula disagree by {err}"
    );
    Ok(())
}
