//! The equilibrium-propagation gradient of one example, checked twice.
//!
//! `hamiltonians/xor.yaml` is a 5-qubit network `H(β, θ, u, d)` (Eq. 16); its free ground
//! state answers `⟨Z_4⟩` and costs `⟨C⟩` (Eq. 18). EP estimates `d⟨C⟩/dθ_k` from the ground
//! states clamped at `±β` (Eq. 28). This example resolves the model's EP settings once
//! ([`EpParams::from_model`]), lets [`Engine::for_model`] pick the engine (the eigenstate one
//! here), and compares the EP gradient with
//!
//! * the engine's own exact gradient (first-order perturbation theory, one MINRES solve), and
//! * central finite differences of the free-phase cost, `(C(θ + h e_k) − C(θ − h e_k)) / 2h`,
//!   which share no code with either.
//!
//! Run: `cargo run --release --example ep_gradient`

use qep::ep::{free_phase, Engine, EpOverrides, EpParams};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = qep::hamiltonian::load(Path::new("hamiltonians/xor.yaml"))?;
    let p = EpParams::from_model(
        &model,
        &EpOverrides {
            exact: true,
            ..EpOverrides::default()
        },
    )?;
    let engine = Engine::for_model(&model, &p)?;
    let example = model.training_example(1)?;
    let theta = model.theta();
    let g = engine.gradient(&model, &theta, &example, &p)?;
    let exact = g
        .exact
        .as_ref()
        .ok_or("the engine computed no exact gradient")?;
    println!(
        "{}: engine {}, β = {}, {} parameters, {} H·ψ products",
        model.name,
        g.engine,
        p.beta,
        theta.len(),
        g.matvecs
    );

    // Central finite differences of the free-phase cost.
    let cost = |t: &[f64]| -> Result<f64, Box<dyn std::error::Error>> {
        let f = free_phase(&model, t, Some(&example), &p.lanczos)?;
        Ok(f.cost.ok_or("the example has no target")?)
    };
    let h = 1e-4;
    let mut worst_exact: f64 = 0.0;
    let mut worst_fd: f64 = 0.0;
    let scale = exact.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    println!(
        "  {:>10}  {:>12}  {:>12}  {:>12}",
        "param", "EP", "exact", "finite diff"
    );
    for k in 0..theta.len() {
        let (mut up, mut down) = (theta.clone(), theta.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (cost(&up)? - cost(&down)?) / (2.0 * h);
        println!(
            "  {:>10}  {:>12.6}  {:>12.6}  {:>12.6}",
            g.params[k], g.ep[k], exact[k], fd
        );
        worst_exact = worst_exact.max((g.ep[k] - exact[k]).abs());
        worst_fd = worst_fd.max((exact[k] - fd).abs());
    }
    println!("  max |EP − exact| = {worst_exact:.2e}, max |exact − FD| = {worst_fd:.2e} (max |g| = {scale:.3})");
    // Symmetric EP has bias O(β²); finite differences have error O(h²) plus solver noise.
    assert!(scale > 1e-3, "the gradient is zero: nothing was checked");
    assert!(
        worst_exact < 1e-3 * scale.max(1.0),
        "EP and the oracle disagree by {worst_exact}"
    );
    assert!(
        worst_fd < 1e-4 * scale.max(1.0),
        "the oracle and finite differences disagree by {worst_fd}"
    );
    Ok(())
}
