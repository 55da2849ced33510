//! `qep evolve` (Schrödinger, Krylov propagator) with the state vector split over ranks.

use crate::evolve::runner::{EvolveMethod, EvolveSettings, KrylovEvolution};
use crate::evolve::setup::{observables, StartState};
use crate::hamiltonian::Model;
use crate::linalg::{krylov_memory, Krylov, KrylovParams, KrylovStats, LanczosParams};
use crate::state::memory::{state_bytes, MemoryPlan};
use crate::C64;

use super::{lowest_eigenpairs, lowest_eigenpairs_buffers, Comm, DistError, DistOperator, Layout};

/// What [`evolve_krylov`] allocates on each rank of `ranks` for `h`: the start and evolving
/// blocks, the exchange buffers of [`DistOperator`] and the Krylov basis of one block (and
/// the distributed eigensolve for `ground`).
///
/// # Errors
/// As [`Layout::new`].
pub fn evolve_krylov_memory(
    h: &crate::pauli::PauliSum,
    ranks: usize,
    settings: &EvolveSettings,
) -> Result<MemoryPlan, DistError> {
    let layout = Layout::new(h.qubits(), ranks, 0)?;
    let l = layout.local_qubits();
    let mut plan = MemoryPlan::new(format!(
        "distributed qep evolve --method krylov of {} qubits, per rank of {ranks} (each holds \
         2^{l} amplitudes)",
        h.qubits()
    ));
    let mut evolution = MemoryPlan::part("evolution");
    evolution
        .add_n("start and evolving blocks", 2, state_bytes(l, 16))
        .add_n(
            "exchange buffers and observable product",
            3,
            state_bytes(l, 16),
        )
        .extend(&krylov_memory(l, &krylov_params(settings)));
    if settings.initial == "ground" {
        // The ground state is solved, copied out as the start block and its solver freed
        // before the propagator and the observables' buffers exist: the peak is the larger
        // of the two phases, not their sum.
        let mut solve = lowest_eigenpairs_buffers(h, ranks, &LanczosParams::default())?;
        solve.add("start block", state_bytes(l, 16));
        if solve.total() > evolution.total() {
            evolution = solve;
        }
    }
    plan.extend(&evolution);
    Ok(plan)
}

fn krylov_params(s: &EvolveSettings) -> KrylovParams {
    KrylovParams {
        tol: s.krylov_tol,
        ..KrylovParams::default()
    }
}

/// The Schrödinger evolution of [`crate::evolve::runner::evolve`] (Krylov method) with every
/// state vector split over the ranks of `comm`: the model's Hamiltonian at its own parameters
/// as a [`DistOperator`], the start state built block by block (`ground`: the distributed
/// Lanczos), the one [`Krylov`] propagator of [`crate::linalg`] with its inner products summed
/// over the ranks (so every rank takes the same sub-steps), and each observable `⟨ψ|A|ψ⟩` as
/// one distributed application and one summed inner product. The record is the one-process
/// record up to rounding. Every rank must call it with the same arguments; the per-rank memory
/// ([`evolve_krylov_memory`]) is checked first.
///
/// # Errors
/// [`DistError::EvolveUnsupported`] for a model with jump operators or a method other than
/// Krylov; a bad start state, observable or time; a non-Hermitian Hamiltonian; the memory
/// check; the propagator's errors.
pub fn evolve_krylov(
    model: &Model,
    settings: &EvolveSettings,
    comm: &dyn Comm,
) -> Result<KrylovEvolution, DistError> {
    let t0 = std::time::Instant::now();
    let s = settings;
    let n = model.qubits;
    if !model.settings.jumps.is_empty() || s.method.is_some_and(|m| m != EvolveMethod::Krylov) {
        return Err(DistError::EvolveUnsupported {
            jumps: model.settings.jumps.len(),
        });
    }
    let h = model.hamiltonian(&model.theta(), None, 0.0)?;
    evolve_krylov_memory(&h, comm.size(), s)?.check()?;
    if let Some((p, imag)) = h.worst_imaginary() {
        return Err(crate::adiabatic::AdiabaticError::NotHermitian {
            which: "target",
            term: p.label(),
            imag,
        }
        .into());
    }
    let mut prev = 0.0;
    for &t in &s.times {
        if !(t.is_finite() && t >= prev) {
            return Err(crate::adiabatic::AdiabaticError::BadTime { time: t }.into());
        }
        prev = t;
    }
    let start = StartState::parse(
        &s.initial,
        n,
        &[StartState::Plus, StartState::Zero, StartState::Ground],
    )?;
    let observed = observables(&s.observe, n)?;
    let op = DistOperator::new(&h, comm)?;
    let layout = op.layout();
    let dim = layout.local_dim();
    let mut psi: Vec<C64> = match start {
        StartState::Plus => {
            vec![C64::new((1.0 / (1u64 << n.min(63)) as f64).sqrt(), 0.0); dim]
        }
        StartState::Zero | StartState::Basis(_) => {
            let b = match start {
                StartState::Basis(b) => b,
                _ => 0,
            };
            let mut v = vec![C64::new(0.0, 0.0); dim];
            if let Some(i) = b.checked_sub(layout.offset()).filter(|&i| i < dim) {
                v[i] = C64::new(1.0, 0.0);
            }
            v
        }
        StartState::Ground | StartState::Mixed => {
            lowest_eigenpairs(&h, comm, &LanczosParams::default(), &|_, _| {})?.block_c64(0)
        }
    };
    let obs_ops = observed
        .iter()
        .map(|a| DistOperator::new(a, comm))
        .collect::<Result<Vec<_>, _>>()?;
    let mut krylov = Krylov::new(dim, krylov_params(s))?;
    let norm = |v: &[C64]| op.dot(v, v).re.sqrt();
    let n0 = norm(&psi);
    let mut stats = KrylovStats::default();
    let mut values = vec![Vec::with_capacity(s.times.len()); observed.len()];
    let mut norm_error = Vec::with_capacity(s.times.len());
    let mut prod = vec![C64::new(0.0, 0.0); dim];
    let mut t_now = 0.0;
    for &t in &s.times {
        if t > t_now {
            krylov.step(&op, &mut psi, t - t_now, &mut stats)?;
            t_now = t;
        }
        for (j, a) in obs_ops.iter().enumerate() {
            a.apply(&psi, &mut prod);
            values[j].push(a.dot(&psi, &prod).re / (n0 * n0));
        }
        norm_error.push(norm(&psi) - n0);
    }
    Ok(KrylovEvolution {
        qubits: n,
        method: "krylov",
        times: s.times.clone(),
        observables: s.observe.iter().cloned().zip(values).collect(),
        purity: vec![1.0; s.times.len()],
        norm_error,
        matvecs: stats.matvecs,
        substeps: stats.substeps,
        error_estimate: stats.error_estimate,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
