//! `qep prepare` with one sweep time: the adiabatic sweep of
//! [`Preparer::run`](crate::adiabatic::Preparer::run) and its verification with every state
//! vector split over the ranks.

use std::time::Instant;

use crate::adiabatic::prepare::verification;
use crate::adiabatic::{
    exponent_weights, krylov_memory, transverse_field, AdiabaticError, Krylov, Method,
    PrepareSettings, Prepared, Profile, Propagation, ScheduleKind, Sweep,
};
use crate::linalg::LanczosParams;
use crate::pauli::PauliSum;
use crate::scalar::C64;
use crate::state::memory::{state_bytes, MemoryPlan};

use super::{
    lowest_eigenpairs, lowest_eigenpairs_buffers, world, Comm, DistError, DistOperator,
    DistSpectrum, Layout,
};

/// One distributed sweep ([`prepare_sweep`]): the record one process makes, with what the
/// study reports beside it.
#[derive(Clone, Debug)]
pub struct DistPrepared {
    /// The sweep and its verification, as [`Preparer::run`](crate::adiabatic::Preparer::run)
    /// returns it.
    pub run: Prepared,
    /// The energy of the start state under `H_start`.
    pub start_energy: f64,
    /// The reference levels `0..=eigen+1` of `H_target`.
    pub target_energies: Vec<f64>,
    /// `|⟨ψ_j|ψ(T)⟩|²` for each reference level `j`.
    pub overlaps: Vec<f64>,
}

/// The world's communicator when a `qubits`-qubit preparation with `settings` splits its
/// states over the ranks: several ranks that can split the qubits, a Krylov or Magnus
/// integrator, and no path scan (`gap_points < 2`, not the local schedule, which needs one).
/// `None` otherwise: the sweep then runs whole on every rank, as on one process (Trotter
/// circuits and the path's spectra are not distributed).
pub fn prepare_split(qubits: usize, settings: &PrepareSettings) -> Option<&'static dyn Comm> {
    let comm = world();
    let distributable = comm.size() > 1
        && !matches!(settings.method, Method::Trotter { .. })
        && settings.gap_points < 2
        && (settings.profile.is_some() || settings.schedule != ScheduleKind::Local);
    (distributable && Layout::of(comm, qubits).is_ok()).then_some(comm)
}

/// What [`prepare_sweep`] allocates on each rank of `ranks` for `target`: the reference
/// levels' eigensolve (or the start's, the larger), the exchange buffers and diagonal of one
/// sweep operator, the evolving state and `H·ψ`, and the Krylov basis, each one block of
/// `n − log₂ ranks` qubits. Its description names the per-rank share.
///
/// # Errors
/// As [`Layout::new`].
pub fn prepare_sweep_memory(
    target: &PauliSum,
    ranks: usize,
    settings: &PrepareSettings,
) -> Result<MemoryPlan, DistError> {
    let layout = Layout::new(target.qubits(), ranks, 0)?;
    let l = layout.local_qubits();
    let mut plan = MemoryPlan::new(format!(
        "distributed qep prepare of {} qubits, per rank of {ranks} (each holds 2^{l} amplitudes)",
        target.qubits()
    ));
    let reference = LanczosParams {
        k: settings.eigen + 2,
        gap: true,
        ..settings.lanczos.clone()
    };
    plan.extend(&lowest_eigenpairs_buffers(target, ranks, &reference)?)
        .add_n(
            "evolving state, H·ψ, sweep operator's diagonal and exchange buffers",
            5,
            state_bytes(l, 16),
        )
        .extend(&krylov_memory(l, &settings.krylov));
    Ok(plan)
}

/// The preparation of [`Preparer::new`](crate::adiabatic::Preparer::new) +
/// [`Preparer::run`](crate::adiabatic::Preparer::run) for one sweep of time `time` (no path
/// scan) with every vector split over the ranks of `comm`:
/// * the start state `|+…+⟩` (default start, level 0) built block by block, any other by the
///   distributed Lanczos of `H_start` (refused if that level is degenerate);
/// * each exponential of the Krylov (midpoint) or Magnus CF4 step, the steps of
///   [`crate::adiabatic::propagate()`], by the one [`Krylov`] propagator on a [`DistOperator`] of
///   `a·H_start + b·H_target` for that exponent's weights, its inner products summed over the
///   ranks (every rank takes the same sub-steps);
/// * the verification of [`Preparer::verify`](crate::adiabatic::Preparer::verify) from the
///   reference levels of the distributed Lanczos, overlaps and `⟨ψ|H|ψ⟩`, `‖Hψ‖²` summed over
///   the ranks ([`verification`]).
///
/// The record is the one-process record up to rounding, the same on every rank. Every rank
/// must call it with the same arguments; the per-rank memory ([`prepare_sweep_memory`]) is
/// checked first.
///
/// # Errors
/// [`AdiabaticError`]s as one process (qubits, Hermiticity, time, steps, level, degenerate
/// start, non-unitary drift); a Trotter method; the memory check; the solvers' errors.
pub fn prepare_sweep(
    start: Option<&PauliSum>,
    target: &PauliSum,
    settings: &PrepareSettings,
    time: f64,
    comm: &dyn Comm,
) -> Result<DistPrepared, DistError> {
    let n = target.qubits();
    let default_start = start.is_none();
    let start = start.cloned().unwrap_or_else(|| transverse_field(n));
    let profile = match (&settings.profile, settings.schedule) {
        (Some(p), _) => p.clone(),
        (None, ScheduleKind::Smooth) => Profile::Smooth,
        // The local schedule needs the path scan; prepare_split sends it to one process.
        (None, _) => Profile::Linear,
    };
    let sweep = Sweep::new(start, target.clone(), time, profile)?;
    if settings.steps == 0 {
        return Err(AdiabaticError::BadSteps.into());
    }
    if matches!(settings.method, Method::Trotter { .. }) {
        return Err(DistError::PrepareTrotter);
    }
    let dim = 1u128 << n.min(127);
    if settings.eigen as u128 >= dim {
        return Err(AdiabaticError::BadLevel {
            eigen: settings.eigen,
            dim: usize::try_from(dim).unwrap_or(usize::MAX),
        }
        .into());
    }
    prepare_sweep_memory(target, comm.size(), settings)?.check()?;
    let layout = Layout::of(comm, n)?;
    let local = layout.local_dim();
    let (mut psi, start_energy) = if default_start && settings.eigen == 0 {
        let amp = C64::new((dim as f64).powf(-0.5), 0.0);
        (vec![amp; local], -(n as f64))
    } else {
        start_state(&sweep.start, settings, comm)?
    };
    let t0 = Instant::now();
    let propagation = propagate(&sweep, settings, &mut psi, comm)?;
    let seconds = t0.elapsed().as_secs_f64();
    let reference = LanczosParams {
        k: (settings.eigen + 2).min(usize::try_from(dim).unwrap_or(usize::MAX)),
        gap: false,
        ..settings.lanczos.clone()
    };
    let spectrum = lowest_eigenpairs(target, comm, &reference, &|_, _| {})?;
    let (verification, overlaps) = verify(target, &spectrum, settings.eigen, &psi, comm)?;
    Ok(DistPrepared {
        run: Prepared {
            time,
            verification,
            propagation,
            seconds,
        },
        start_energy,
        target_energies: spectrum.spectrum.energies().to_vec(),
        overlaps,
    })
}

/// Level `settings.eigen` of `h_start` by the distributed Lanczos (this rank's block) and its
/// energy; refused, as on one process, when that level is degenerate.
fn start_state(
    h_start: &PauliSum,
    settings: &PrepareSettings,
    comm: &dyn Comm,
) -> Result<(Vec<C64>, f64), DistError> {
    let k = settings.eigen;
    let dim = 1u128 << h_start.qubits().min(127);
    let params = LanczosParams {
        k: k + 1,
        gap: ((k + 1) as u128) < dim,
        ..settings.lanczos.clone()
    };
    let sp = lowest_eigenpairs(h_start, comm, &params, &|_, _| {})?;
    let e = sp.spectrum.energies();
    let below = if k > 0 {
        e[k] - e[k - 1]
    } else {
        f64::INFINITY
    };
    let above = sp
        .spectrum
        .next_energy()
        .map_or(f64::INFINITY, |x| x - e[k]);
    if below.min(above) < 1e-8 * e[k].abs().max(1.0) {
        return Err(AdiabaticError::DegenerateStart {
            eigen: k,
            energy: e[k],
            gap: below.min(above),
        }
        .into());
    }
    Ok((sp.block_c64(k), e[k]))
}

/// The steps of [`crate::adiabatic::propagate`] (Krylov midpoint or Magnus CF4, same weights
/// and order) on this rank's block `psi`. Each exponent compiles its own [`DistOperator`] of
/// `a·H_start + b·H_target`: that costs about one `H·ψ`, against the 10–20 `H·ψ` of one
/// Krylov exponential, so a two-operator pencil over ranks is not worth its code.
fn propagate(
    sweep: &Sweep,
    settings: &PrepareSettings,
    psi: &mut [C64],
    comm: &dyn Comm,
) -> Result<Propagation, DistError> {
    let steps = settings.steps;
    let mut krylov = Krylov::new(psi.len(), settings.krylov)?;
    let mut out = Propagation {
        steps,
        ..Default::default()
    };
    let combined = |a: f64, b: f64| {
        let mut h = PauliSum::new(sweep.qubits());
        h.add_sum(&sweep.start, C64::new(a, 0.0));
        h.add_sum(&sweep.target, C64::new(b, 0.0));
        h.simplify(0.0);
        h
    };
    let mut exp = |a: f64, b: f64, psi: &mut [C64], out: &mut Propagation, dt: f64| {
        let h = combined(a, b);
        let op = DistOperator::new(&h, comm)?;
        krylov.step(&op, psi, dt, &mut out.krylov)?;
        Ok::<(), DistError>(())
    };
    let norm = |psi: &[C64]| {
        let mut v = [crate::state::dot(psi, psi).re];
        comm.allreduce_sum(&mut v);
        v[0].sqrt()
    };
    let n0 = norm(psi);
    let h = sweep.time / steps as f64;
    if let Method::Trotter { .. } = settings.method {
        return Err(DistError::PrepareTrotter);
    }
    for (a, b) in exponent_weights(sweep, settings.method, steps) {
        exp(a, b, psi, &mut out, h)?;
    }
    out.norm_error = (norm(psi) - n0).abs();
    if out.norm_error > 1e-8 * n0.max(1.0) {
        return Err(AdiabaticError::NotUnitary {
            drift: out.norm_error,
        }
        .into());
    }
    Ok(out)
}

/// [`verification`] of this rank's block `psi` against the distributed reference levels, with
/// the overlaps `|⟨ψ_j|ψ⟩|²`.
fn verify(
    target: &PauliSum,
    spectrum: &DistSpectrum,
    eigen: usize,
    psi: &[C64],
    comm: &dyn Comm,
) -> Result<(crate::adiabatic::Verification, Vec<f64>), DistError> {
    let op = DistOperator::new(target, comm)?;
    let e = spectrum.spectrum.energies();
    let overlaps: Vec<f64> = (0..e.len())
        .map(|j| op.dot(&spectrum.block_c64(j), psi).norm_sqr())
        .collect();
    let mut h_psi = vec![C64::new(0.0, 0.0); psi.len()];
    op.apply(psi, &mut h_psi);
    let sums = [
        op.dot(psi, psi).re,
        op.dot(psi, &h_psi).re,
        op.dot(&h_psi, &h_psi).re,
    ];
    Ok((verification(e, &overlaps, eigen, sums), overlaps))
}
