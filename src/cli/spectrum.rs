//! `qep spectrum FILE [--k K]`.

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use qep::linalg::{eigenpairs_memory, eigenpairs_with_progress, operator_memory};
use qep::operator::XMaskOperator;
use qep::state::MemoryPlan;

use super::args::SpectrumArgs;
use super::{bar, finite, in_file, lanczos_params, load, print_json};

/// The JSON of `qep spectrum`.
#[derive(Serialize)]
struct SpectrumOut {
    qubits: usize,
    energies: Vec<f64>,
    residuals: Vec<f64>,
    /// `E_1 − E_0` (from the level above the wanted ones when `k = 1`).
    gap: Option<f64>,
    next_energy: Option<f64>,
    matvecs: usize,
    /// Full reorthogonalisations of the Krylov basis (ω-recurrence) and explicit restarts.
    reorthogonalizations: usize,
    restarts: usize,
    method: &'static str,
    arithmetic: &'static str,
    seconds: f64,
}

impl SpectrumOut {
    /// The JSON of a solve on `qubits` qubits started at `t0`.
    fn new(qubits: usize, spec: &qep::linalg::AnySpectrum, t0: Instant) -> Self {
        let (reorthogonalizations, restarts) = spec.reorthogonalizations_and_restarts();
        Self {
            qubits,
            energies: spec.energies().to_vec(),
            residuals: spec.residuals().to_vec(),
            gap: spec.gap(),
            next_energy: spec.next_energy(),
            matvecs: spec.matvecs(),
            reorthogonalizations,
            restarts,
            method: spec.method(),
            arithmetic: if spec.is_real() { "real" } else { "complex" },
            seconds: t0.elapsed().as_secs_f64(),
        }
    }
}

pub fn run(a: SpectrumArgs) -> Result<()> {
    let t0 = Instant::now();
    let file = &a.model.file;
    let model = load(file)?;
    let h = in_file(file, model.hamiltonian(&model.theta(), None, 0.0))?;
    let mut params = lanczos_params(&a.solver, a.k);
    params.gap = !a.no_gap;
    let world = qep::dist::world();
    if world.size() > 1 {
        return run_distributed(&a, &model, &h, &params, world, t0);
    }
    let mut plan = MemoryPlan::new("qep spectrum");
    plan.extend(&operator_memory(&h))
        .extend(&eigenpairs_memory(&h, &params));
    in_file(file, plan.check())?;
    let op = in_file(file, XMaskOperator::new(&h))?;
    // Levels are found one at a time: the bar counts them (the gap level too), so its estimate
    // of the time left holds after the first.
    let pb = bar(
        (params.k + usize::from(params.gap)) as u64,
        format!(
            "lowest levels of {} qubits ({} X-mask groups)",
            op.qubits(),
            op.n_groups()
        ),
        "levels",
    );
    let spec = eigenpairs_with_progress(&op, &params, None, &|found, _| {
        pb.set_position(found as u64)
    });
    pb.finish_and_clear();
    let spec = in_file(file, spec)?;
    let out = SpectrumOut::new(op.qubits(), &spec, t0);
    finite(file, &out)?;
    report(&a, &model, &out, &params)
}

/// Prints the result (JSON or a table).
fn report(
    a: &SpectrumArgs,
    model: &qep::hamiltonian::Model,
    out: &SpectrumOut,
    params: &qep::linalg::LanczosParams,
) -> Result<()> {
    if a.model.json {
        return print_json(out, model, Some(params.seed), serde_json::to_value(params)?);
    }
    println!(
        "{}: {} qubits, {} {} arithmetic, {} H·ψ, {:.3} s",
        model.name, out.qubits, out.method, out.arithmetic, out.matvecs, out.seconds
    );
    println!("{:>5}  {:>22}  {:>10}", "level", "energy", "residual");
    for (i, (e, r)) in out.energies.iter().zip(&out.residuals).enumerate() {
        println!("{i:>5}  {e:>22.12}  {r:>10.2e}");
    }
    if let Some(g) = out.gap {
        println!("gap E1 − E0 = {g:.6e}");
    }
    Ok(())
}

/// `qep spectrum` under `mpirun` with several ranks: every state vector is split over the
/// ranks ([`qep::dist::lowest_eigenpairs`]), so each rank holds `2^(n−g)` amplitudes of it.
fn run_distributed(
    a: &SpectrumArgs,
    model: &qep::hamiltonian::Model,
    h: &qep::pauli::PauliSum,
    params: &qep::linalg::LanczosParams,
    world: &dyn qep::dist::Comm,
    t0: Instant,
) -> Result<()> {
    let file = &a.model.file;
    let wanted = params.k + usize::from(params.gap);
    let pb = bar(
        wanted as u64,
        format!(
            "lowest levels of {} qubits on {} ranks",
            h.qubits(),
            world.size()
        ),
        "levels",
    );
    let d =
        qep::dist::lowest_eigenpairs(h, world, params, &|found, _| pb.set_position(found as u64));
    pb.finish_and_clear();
    let spec = in_file(file, d)?.spectrum;
    let out = SpectrumOut::new(h.qubits(), &spec, t0);
    finite(file, &out)?;
    report(a, model, &out, params)
}
