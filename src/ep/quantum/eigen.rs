//! EP gradients of quantum networks (Eq. 27–29) and the exact-gradient oracle they are checked
//! against.

use serde::Serialize;

use crate::ep::EpError as Error;
use crate::hamiltonian::{Example, Model};
use crate::linalg::{
    dot_all, lowest_eigenpairs_in, minres_projected_in, LanczosParams, LanczosWorkspace,
    MinresParams, SolverError,
};
use crate::operator::{LinearOperator, XMaskOperator};
use crate::pauli::{Letter, PauliString, PauliSum};
use crate::scalar::{Scalar, C64};
use crate::state::{expectation_pauli, expectation_sum, matrix_element_pauli, memory};

pub use crate::ep::params::{EpError, EpParams};

/// The EP estimate of `∂⟨C⟩/∂θ_k` for every parameter, with the evidence of the states used.
#[derive(Clone, Debug, Serialize)]
pub struct EpGradient {
    /// Parameter labels, in model order.
    pub params: Vec<String>,
    /// The EP estimates (Eq. 28, or the one-sided variant).
    pub ep: Vec<f64>,
    /// β used.
    pub beta: f64,
    /// Whether the one-sided estimate was used.
    pub one_sided: bool,
    /// The computing level.
    pub level: usize,
    /// Free-phase energy `E_K`.
    pub energy: f64,
    /// Gap of the free level to its nearest neighbour.
    pub gap: Option<f64>,
    /// How far `gap` may be from the true gap: the free level's residual plus the error of
    /// its neighbour's energy ([`crate::linalg::Spectrum::next_error`]; the level above the
    /// ground state comes from the free run with its energy, not its vector, converged to
    /// the tolerance).
    pub gap_error: Option<f64>,
    /// Free-phase `⟨C⟩`.
    pub cost: f64,
    /// Free-phase `⟨Z_i⟩` on the outputs.
    pub z_outputs: Vec<f64>,
    /// `|⟨ψ_K(±β)|ψ_K(0)⟩|²` of each clamped state with the free one (near 1 for small β;
    /// levels are followed by this overlap).
    pub overlaps: Vec<f64>,
    /// Residuals `‖Hψ − Eψ‖` of the free and clamped states.
    pub residuals: Vec<f64>,
    /// Operator applications of all eigensolves.
    pub matvecs: usize,
    /// With shots: the standard error of each EP component, from the same shots
    /// (`√(σ₊² + σ₋²)/2β`, or `√(σ_β² + σ_0²)/β` one-sided).
    pub ep_std: Option<Vec<f64>>,
    /// With shots: every shot spent on this gradient (shots × groups × states).
    pub shots_total: Option<u64>,
}

/// The exact `d⟨C⟩/dθ_k` at β = 0 with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct ExactGradient {
    /// Parameter labels.
    pub params: Vec<String>,
    /// `d⟨C⟩_K/dθ_k`.
    pub exact: Vec<f64>,
    /// MINRES iterations.
    pub iterations: usize,
    /// Operator applications of the MINRES solve: its iterations and its explicit-residual
    /// checks (see [`MinresParams::max_iterations`]).
    pub matvecs: usize,
    /// Explicit relative residual of the linear solve.
    pub residual: f64,
    /// Operator applications spent only on checking that the free level is not degenerate,
    /// beyond the free solve and MINRES. 0 on one process: the check rides on the free
    /// solve's gap, one pass over the state per global Pauli symmetry and MINRES's own
    /// recurrence (see [`MinresParams::singular_below`]); a
    /// gap from a deflated solve (excited levels, dense and two-pass solves) is counted in
    /// the free solve's products.
    pub gap_check_matvecs: usize,
}

/// EP estimate of `∂⟨C⟩/∂θ_k` for every trainable term (Eq. 28, from Eq. 27):
/// `g_k = (⟨P_k⟩_{+β} − ⟨P_k⟩_{−β}) / 2β` with the states the eigenstates (level
/// `params.level`) of `H(±β, θ, u, d)` (Eq. 16); with `one_sided`, `(⟨P_k⟩_β − ⟨P_k⟩_0)/β`.
/// Clamped levels are followed by overlap with the free one (an excited level may cross
/// another as β grows); the clamped ground state is warm-started from the free one.
/// `params.exact` is ignored here (see [`ep_gradient_in`]).
///
/// # Errors
/// [`EpError::BetaNotPositive`], [`EpError::NoTargets`]; model, memory and solver errors.
pub(crate) fn ep_gradient(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &EpParams,
) -> Result<EpGradient, Error> {
    let p = EpParams {
        exact: false,
        ..params.clone()
    };
    Ok(ep_gradient_in(model, theta, example, &p, &mut EpWorkspace::default())?.0)
}

/// The solver buffers of EP gradients, owned by the caller and passed down so that every
/// eigensolve (free, clamped) and the oracle's MINRES of every gradient computed with it work
/// in the same, already allocated vectors: one [`LanczosWorkspace`] for real and one for
/// complex amplitudes (a model is one or the other; both only if it changes).
#[derive(Debug, Default)]
pub struct EpWorkspace {
    real: LanczosWorkspace<f64>,
    complex: LanczosWorkspace<C64>,
}

impl EpWorkspace {
    /// Bytes its vectors hold.
    pub fn bytes(&self) -> u128 {
        self.real.bytes() + self.complex.bytes()
    }
}

/// The EP gradient of [`ep_gradient`] and, with `params.exact`, the oracle of
/// [`exact_gradient`] from the same free state: the oracle then costs one MINRES solve, not a
/// second free eigensolve as well. Every solve works in `workspace` (see [`EpWorkspace`]);
/// the numbers are those of [`ep_gradient`] and [`exact_gradient`], bit for bit.
///
/// # Errors
/// As [`ep_gradient`]; with `params.exact` also those of [`exact_gradient`]
/// ([`EpError::Degenerate`] is reported before the clamped solves).
pub(crate) fn ep_gradient_in(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &EpParams,
    workspace: &mut EpWorkspace,
) -> Result<(EpGradient, Option<ExactGradient>), Error> {
    crate::ep::params::check_beta(params.beta)?;
    if example.targets.is_empty() {
        return Err(EpError::NoTargets);
    }
    // Under mpirun every rank holds a block of each state.
    if let Some((comm, layout)) = crate::dist::ep_split(model.qubits, params) {
        return crate::dist::ep_gradient(model, theta, example, params, comm, layout);
    }
    // On a pool thread: every parallel pass of the solves then forks from inside the pool,
    // instead of the calling thread handing each pass to the pool and sleeping until it is
    // done (a wake-up and a futex round trip per pass, hundreds per gradient). Inside the
    // pool already (a trainer's parallel loop, a test's pool), it runs where it is.
    rayon::scope(|_| ep_local(model, theta, example, params, workspace))
}

/// [`ep_gradient_in`] in this process (no `mpirun` split), on the calling thread.
fn ep_local(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &EpParams,
    workspace: &mut EpWorkspace,
) -> Result<(EpGradient, Option<ExactGradient>), Error> {
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let op0 = XMaskOperator::new(&h0)?;
    if op0.is_real() {
        ep_impl::<f64>(model, example, params, (&h0, &op0), &mut workspace.real)
    } else {
        ep_impl::<C64>(model, example, params, (&h0, &op0), &mut workspace.complex)
    }
}

/// The buffers of one EP gradient on `n` qubits (complex amplitudes, the conservative case)
/// with `params`: the free and two clamped operators' diagonals, the eigensolver of level
/// `params.level` (plus the followed neighbour), the free and clamped states, and with
/// `oracle` the exact gradient's MINRES vectors and `C·ψ`.
pub fn gradient_memory(n: usize, params: &EpParams, oracle: bool) -> crate::state::MemoryPlan {
    let vec = memory::state_bytes(n, 16);
    let lanczos = LanczosParams {
        k: params.level + 2,
        gap: true,
        ..params.lanczos.clone()
    };
    let mut plan = crate::state::MemoryPlan::part("EP gradient");
    plan.add_n("operator diagonals", 3, vec)
        .extend(&crate::linalg::lanczos_memory(n, 16, &lanczos))
        .add_n("free and clamped states", 3, vec);
    if oracle {
        plan.add_n("exact gradient (MINRES vectors and C·ψ)", 9, vec);
    }
    plan
}

/// One eigenstate (this process's part of it, under `mpirun`) with its evidence.
pub(crate) struct Level<T> {
    pub(crate) energy: f64,
    pub(crate) state: Vec<T>,
    pub(crate) residual: f64,
    pub(crate) gap: Option<f64>,
    /// The error bound of `gap` (see [`EpGradient::gap_error`]).
    pub(crate) gap_error: Option<f64>,
    pub(crate) matvecs: usize,
    /// Whether the level above came from the level's own Lanczos run
    /// ([`LanczosParams::gap_from_run`]), which does not see an exact degeneracy.
    pub(crate) from_run: bool,
}

/// Level `level` of `op`, or with `follow`, the one of the lowest `level + 2` with the largest
/// overlap with `follow`; with `gap`, the free level's neighbour above as well. The one rule
/// of the one-process and the distributed EP gradients: `op` may hold a block of each vector
/// (overlaps are summed over the processes).
pub(crate) fn solve_level<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    level: usize,
    lanczos: &LanczosParams,
    follow: Option<&[T]>,
    warm: bool,
    gap: bool,
    ws: &mut LanczosWorkspace<T>,
) -> Result<(Level<T>, f64), SolverError> {
    // A clamped level is followed among the lowest `level + 2` (an excited level may cross a
    // neighbour as β grows); the clamped ground state is the ground state by definition, so it
    // needs neither the extra level nor the gap, only the warm start.
    let extra = usize::from(follow.is_some() && level > 0);
    let p = LanczosParams {
        k: (level + 1 + extra).min(op.global_dim()),
        gap: follow.is_none() && gap,
        ..lanczos.clone()
    };
    let start = if level == 0 && warm { follow } else { None };
    let mut s = lowest_eigenpairs_in::<T>(op, &p, start, ws)?;
    let (j, overlap) = match follow {
        Some(f) => (0..s.vectors.len())
            .map(|j| (j, dot_all(op, &s.vectors[j], f).abs2()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((level, 1.0)),
        None => (level, 1.0),
    };
    let e = &s.energies;
    let r = &s.residuals;
    // Each neighbour's gap with the error of its energy: a returned level's residual, the
    // level above the returned ones its `next_error`.
    let below = j.checked_sub(1).map(|i| (e[j] - e[i], r[i]));
    let above = match (e.get(j + 1), s.next_energy) {
        (Some(&n), _) => Some((n - e[j], r[j + 1])),
        (None, Some(n)) => Some((n - e[j], s.next_error.unwrap_or(0.0))),
        (None, None) => None,
    };
    let nearest = match (below, above) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    let gap = nearest.map(|(g, _)| g);
    let gap_error = nearest.map(|(_, err)| err + r[j]);
    let from_run = p.gap && p.gap_from_run && s.method == "lanczos";
    let lvl = Level {
        from_run,
        energy: e[j],
        residual: s.residuals[j],
        state: s.vectors.swap_remove(j),
        gap,
        gap_error,
        matvecs: s.matvecs,
    };
    // The other levels' vectors go back to the workspace for the next solve.
    for v in s.vectors {
        ws.give(v);
    }
    Ok((lvl, overlap))
}

/// Operator applications a failed solve spent before it gave up (0 when it failed before
/// the first one).
pub(crate) fn products_spent(e: &SolverError) -> usize {
    match e {
        SolverError::NotConverged { iterations, .. } => *iterations,
        _ => 0,
    }
}

fn ep_impl<T: Scalar>(
    model: &Model,
    example: &Example,
    params: &EpParams,
    (h0, op0): (&PauliSum, &XMaskOperator),
    ws: &mut LanczosWorkspace<T>,
) -> Result<(EpGradient, Option<ExactGradient>), Error> {
    let gap = params.gap || params.exact;
    // The free ground state's gap comes from its own run (about half the products of a
    // second, deflated solve), with or without the oracle, so that asking for the oracle does
    // not change the EP estimate.
    let free_lanczos = LanczosParams {
        gap_from_run: params.level == 0,
        ..params.lanczos.clone()
    };
    let (free, _) = solve_level::<T, _>(op0, params.level, &free_lanczos, None, false, gap, ws)?;
    // The oracle runs before the clamped solves so that a degenerate level is refused before
    // they are paid for.
    let oracle = if params.exact {
        check_gap(free.gap, params)?;
        if free.from_run {
            check_symmetry_sectors(h0, &free, params)?;
        }
        Some(oracle_at(model, example, params, op0, &free, ws)?)
    } else {
        None
    };
    // Tied parameters: ⟨Σ_j c_kj P_kj⟩ from the expectations of their strings, all strings
    // grouped together for the shots.
    let ops: Vec<Vec<(crate::pauli::PauliString, f64)>> =
        model.params.iter().map(|p| p.strings.clone()).collect();
    let strings = model.param_strings();
    let groups = crate::measure::best_grouping(&strings).n_groups() as u64;
    let mut measured_states = 0u64;
    // ⟨∂H/∂θ_k⟩ for every parameter with its standard error (0 when exact); state `j` of this
    // gradient draws its shots from its own seed.
    let mut expect_all = |psi: &[T]| -> Result<(Vec<f64>, Vec<f64>), Error> {
        match params.shots {
            None => Ok((
                super::param_expectations(model, &strings, psi),
                vec![0.0; ops.len()],
            )),
            Some(s) => {
                let n = psi.len().trailing_zeros() as usize;
                let sv = crate::state::StateVector::from_amplitudes(n, psi.to_vec());
                let seed = params
                    .shot_seed
                    .wrapping_add(measured_states.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                measured_states += 1;
                let est = crate::measure::estimate_weighted(&sv, &ops, s, seed)?;
                Ok((
                    est.iter().map(|e| e.mean).collect(),
                    est.iter().map(|e| e.std_err).collect(),
                ))
            }
        }
    };
    let betas: Vec<f64> = if params.one_sided {
        vec![params.beta]
    } else {
        vec![params.beta, -params.beta]
    };
    let mut clamped = Vec::with_capacity(2);
    let mut overlaps = Vec::with_capacity(2);
    let mut residuals = vec![free.residual];
    let mut matvecs = free.matvecs;
    // H(±β) = H(0) ± βC moves every level by at most β‖C‖ (Weyl), so when the free ground
    // state's gap exceeds 4β‖C‖ the clamped ground state is the continuation of the free one,
    // with overlap ≥ 8/9 (Davis–Kahan), and no level can come from below unseen: the free
    // state alone is a start from which Lanczos must reach it, and the random component a
    // warm start otherwise carries only slows the solve down.
    let cost_op = model.cost_operator(&example.targets);
    let c_norm = cost_op.norm_bound();
    let pure_warm = params.warm_start
        && params.level == 0
        && free
            .gap
            .is_some_and(|g| g > 4.0 * params.beta.abs() * c_norm);
    let pure = LanczosParams {
        warm_mix: 0.0,
        ..params.lanczos.clone()
    };
    // The pure start of the second clamped solve: `2ψ₀ − ψ₊` (ψ₊ in ψ₀'s phase), which is
    // ψ₋ up to O(β²) where ψ₀ is only within O(β) (ψ(±β) = ψ₀ ± β ψ' + O(β²)), so that solve
    // starts from a residual about β times smaller. It lies as close to ψ₀ as ψ₊ does, so
    // under the gap condition above its overlap with ψ₋ stays bounded away from zero
    // (sin θ ≤ 1/3 + 1/3) and no level can come from below unseen.
    let mut extrapolated: Option<Vec<T>> = None;
    for &b in &betas {
        // H(b) = H(0) + b C: the free operator with the cost's diagonal added.
        let op = op0.plus_diagonal(b, &cost_op)?;
        let solved = if pure_warm {
            // The extrapolated start goes to the workspace by value (its vector becomes the
            // run's first, as the free state's copy would): no vector besides the
            // workspace's is held during the solve.
            let start = match extrapolated.take() {
                Some(x) => {
                    ws.set_start(x);
                    None
                }
                None => Some(&free.state[..]),
            };
            // Should the pure start stall all the same, the mixed one below decides; the
            // products it spent count all the same.
            match solve_level::<T, _>(&op, 0, &pure, start, true, false, ws) {
                // The overlap reported is the one with the free state, whatever the start.
                Ok((lvl, _)) if start.is_none() => {
                    let ov = dot_all(&op, &free.state, &lvl.state).abs2();
                    Some((lvl, ov))
                }
                Ok(s) => Some(s),
                Err(e) => {
                    matvecs += products_spent(&e);
                    None
                }
            }
        } else {
            None
        };
        let (lvl, ov) = match solved {
            Some(s) => s,
            None => solve_level::<T, _>(
                &op,
                params.level,
                &params.lanczos,
                Some(&free.state),
                params.warm_start,
                false,
                ws,
            )?,
        };
        matvecs += lvl.matvecs;
        residuals.push(lvl.residual);
        overlaps.push(ov);
        clamped.push(expect_all(&lvl.state)?);
        if pure_warm && clamped.len() < betas.len() {
            extrapolated = Some(extrapolate(&op, &free.state, lvl.state));
        } else {
            ws.give(lvl.state);
        }
    }
    let ((a, sa), (b, sb), scale) = if params.one_sided {
        let a0 = expect_all(&free.state)?;
        (clamped.swap_remove(0), a0, params.beta)
    } else {
        let m = clamped.pop().expect("two clamped states");
        (
            clamped.pop().expect("two clamped states"),
            m,
            2.0 * params.beta,
        )
    };
    let ep = ep_difference(&a, &b, params.beta, params.one_sided);
    let ep_std = params.shots.map(|_| {
        sa.iter()
            .zip(&sb)
            .map(|(x, y)| (x * x + y * y).sqrt() / scale)
            .collect()
    });
    let cost = expectation_sum(&free.state, &cost_op).re;
    let z_outputs = model
        .outputs
        .iter()
        .map(|&q| {
            expectation_pauli(
                &free.state,
                crate::pauli::PauliString::single(crate::pauli::Letter::Z, q),
            )
            .re
        })
        .collect();
    ws.give(free.state);
    let g = EpGradient {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        ep,
        beta: params.beta,
        one_sided: params.one_sided,
        level: params.level,
        energy: free.energy,
        gap: free.gap,
        gap_error: free.gap_error,
        cost,
        z_outputs,
        overlaps,
        residuals,
        matvecs,
        ep_std,
        shots_total: params.shots.map(|s| s * groups * measured_states),
    };
    Ok((g, oracle))
}

/// `2ψ₀ − e^{−iφ} ψ₊` with `e^{iφ}` the phase of `⟨ψ₀|ψ₊⟩` (unnormalised; the solver
/// normalises its start), in a vector of the workspace: the clamped state at `−β` from the
/// free state `ψ₀` and the clamped state `ψ₊` at `+β`, to second order in β. Formed in
/// `plus`'s own vector.
fn extrapolate<T: Scalar, A: LinearOperator<T> + ?Sized>(
    op: &A,
    psi0: &[T],
    mut plus: Vec<T>,
) -> Vec<T> {
    let ov = dot_all(op, psi0, &plus).to_c64();
    let norm = ov.norm();
    let phase = if norm > 0.0 {
        C64::new(ov.re / norm, -ov.im / norm)
    } else {
        C64::new(1.0, 0.0)
    };
    // A real state's overlap is real: its phase is a sign.
    let minus_phase = T::from_c64(-phase).unwrap_or_else(|| T::from_f64(-phase.re.signum()));
    let two = T::from_f64(2.0);
    for (x, &p0) in plus.iter_mut().zip(psi0) {
        *x = two * p0 + minus_phase * *x;
    }
    plus
}

/// The EP estimate from the parameters' expectations (Eq. 28): `(a_k − b_k)/2β` with `a`, `b`
/// at `+β`, `−β`; `one_sided`: `(a_k − b_k)/β` with `a` at `β` and `b` in the free state.
pub fn ep_difference(a: &[f64], b: &[f64], beta: f64, one_sided: bool) -> Vec<f64> {
    let scale = if one_sided { beta } else { 2.0 * beta };
    a.iter().zip(b).map(|(p, m)| (p - m) / scale).collect()
}

/// The exact `d⟨C⟩_K/dθ_k` at β = 0 for every parameter, by first-order perturbation theory
/// solved as one linear system, with no sum over states: with `ψ_K`, `E_K` the free level,
/// `dψ_K/dθ_k = −(H − E_K)⁺ Q P_k ψ_K` (`Q = 1 − |ψ_K⟩⟨ψ_K|`), so
/// `d⟨C⟩/dθ_k = 2 Re ⟨ψ_K|C|dψ_K/dθ_k⟩ = −2 Re ⟨y|P_k|ψ_K⟩` (for a tied parameter
/// `P_k = Σ_j c_kj P_kj`, summed string by string) where `y` solves the *adjoint*
/// system `Q (H − E_K) Q y = Q C ψ_K` (MINRES). One solve serves every parameter.
///
/// # Errors
/// [`EpError::NoTargets`], [`EpError::Degenerate`] when the level's gap is below
/// `params.gap_threshold`; model, memory and solver errors (non-convergence included).
pub(crate) fn exact_gradient(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &EpParams,
) -> Result<ExactGradient, Error> {
    if example.targets.is_empty() {
        return Err(EpError::NoTargets);
    }
    // On a pool thread, as `ep_gradient_in`.
    rayon::scope(|_| {
        let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
        let op0 = XMaskOperator::new(&h0)?;
        if op0.is_real() {
            exact_impl::<f64>(model, example, params, &op0)
        } else {
            exact_impl::<C64>(model, example, params, &op0)
        }
    })
}

fn exact_impl<T: Scalar>(
    model: &Model,
    example: &Example,
    params: &EpParams,
    op0: &XMaskOperator,
) -> Result<ExactGradient, Error> {
    let mut ws = LanczosWorkspace::<T>::new();
    let (free, _) = solve_level::<T, _>(
        op0,
        params.level,
        &params.lanczos,
        None,
        false,
        true,
        &mut ws,
    )?;
    check_gap(free.gap, params)?;
    oracle_at(model, example, params, op0, &free, &mut ws)
}

/// [`EpError::Degenerate`] when the free level's gap is below `params.gap_threshold`.
fn check_gap(gap: Option<f64>, params: &EpParams) -> Result<(), Error> {
    match gap {
        Some(g) if g < params.gap_threshold => Err(EpError::Degenerate {
            level: params.level,
            gap: g,
            threshold: params.gap_threshold,
        }),
        _ => Ok(()),
    }
}

/// The Pauli strings `∏X`, `∏Y`, `∏Z` over all qubits that commute with every term of `h`:
/// global symmetries of the Hamiltonian read off its strings (spin flip, parity).
fn global_symmetries(h: &PauliSum) -> Vec<PauliString> {
    let n = h.qubits();
    [Letter::X, Letter::Y, Letter::Z]
        .into_iter()
        .filter_map(|l| {
            let letters: Vec<(Letter, usize)> = (0..n).map(|q| (l, q)).collect();
            PauliString::from_letters(&letters).ok()
        })
        .filter(|s| h.terms().iter().all(|(p, _)| p.commutes_with(*s)))
        .collect()
}

/// `‖u‖` for `u = (1 − σS)ψ/2`, the part of `ψ` outside the symmetry sector of `S` (`S² = 1`,
/// Hermitian) that holds most of it (`σ = ±1`), from one pass over `ψ` (computed directly,
/// not as `√((1 − |⟨S⟩|)/2)`, which loses small values to cancellation).
fn sector_leak<T: Scalar>(psi: &[T], s: PauliString) -> f64 {
    use rayon::prelude::*;
    // (Sψ)[b'] = i^k ψ[b] with (i^k, b') = S|b⟩; b ↦ b' is a bijection.
    let (plus, minus) = (0..psi.len())
        .into_par_iter()
        .with_min_len(1 << 14)
        .map(|b| {
            let (ph, b2) = s.apply_to_basis(b as u64);
            let image = ph.to_complex() * psi[b].to_c64();
            let own = psi[b2 as usize].to_c64();
            ((own - image).norm_sqr(), (own + image).norm_sqr())
        })
        .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    (plus.min(minus) / 4.0).sqrt()
}

/// Refuses a free level that is degenerate across a global Pauli symmetry sector (see
/// [`global_symmetries`]) but that its own Lanczos run could not see as such. When `S`
/// commutes with `H`, `u = (1 − σS)ψ/2` obeys `(H − E)u = (1 − σS)r/2` with `r = Hψ − Eψ`,
/// so a non-degenerate level leaks at most `‖u‖ ≤ ‖r‖/gap` out of its sector
/// (Davis–Kahan), while a run started from a random vector that meets a degenerate level
/// spread over two sectors returns a mixture of them (`‖u‖` of order 1). The level is refused
/// when `‖u‖` exceeds ten times the bound (plus `10⁻⁸` for rounding); the reported gap
/// is `‖r‖/‖u‖`, the distance within which `H` has a level in the other sector.
///
/// Not seen: degeneracies inside one sector of these symmetries (non-Pauli symmetries such as
/// SU(2) multiplets, accidental ones); the oracle's MINRES refuses those that the cost
/// operator couples to the free state ([`MinresParams::singular_below`]).
fn check_symmetry_sectors<T: Scalar>(
    h: &PauliSum,
    free: &Level<T>,
    params: &EpParams,
) -> Result<(), Error> {
    let gap = free.gap.unwrap_or(f64::INFINITY);
    for s in global_symmetries(h) {
        let leak = sector_leak(&free.state, s);
        if leak > 10.0 * free.residual / gap + 1e-8 {
            return Err(EpError::Degenerate {
                level: params.level,
                gap: free.residual / leak,
                threshold: params.gap_threshold,
            });
        }
    }
    Ok(())
}

/// The oracle's linear solve around the free level `free` of `op0` (see
/// [`exact_gradient`]), in `ws`.
fn oracle_at<T: Scalar>(
    model: &Model,
    example: &Example,
    params: &EpParams,
    op0: &XMaskOperator,
    free: &Level<T>,
    ws: &mut LanczosWorkspace<T>,
) -> Result<ExactGradient, Error> {
    let c = XMaskOperator::new(&model.cost_operator(&example.targets))?;
    let psi = &free.state;
    memory::check_alloc(psi.len() * std::mem::size_of::<T>(), "C·ψ")?;
    let mut cpsi: Vec<T> = ws.take(psi.len(), 0);
    c.apply_into(psi, &mut cpsi);
    // A level hidden behind the free one (one Krylov run holds one vector of each eigenspace)
    // that C couples to leaves the system singular and inconsistent: MINRES refuses it.
    let minres = MinresParams {
        singular_below: Some(params.gap_threshold),
        ..params.minres.clone()
    };
    drop(c);
    // H − E with the shift on the diagonal: each MINRES step then makes no pass for it.
    let shifted = op0.shifted(free.energy)?;
    let solved = minres_projected_in(&shifted, 0.0, psi, &cpsi, &minres, ws);
    drop(shifted);
    ws.give(cpsi);
    let (y, info) = solved.map_err(|e| match e {
        SolverError::Singular { null, .. } => EpError::Degenerate {
            level: params.level,
            gap: null,
            threshold: params.gap_threshold,
        },
        e => e.into(),
    })?;
    let exact = model
        .params
        .iter()
        .map(|p| p.combine(|s| -2.0 * matrix_element_pauli(&y, s, psi).re))
        .collect();
    ws.give(y);
    Ok(ExactGradient {
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        exact,
        iterations: info.iterations,
        matvecs: info.matvecs,
        residual: info.residual,
        gap_check_matvecs: 0,
    })
}

/// Cosine similarity and relative error `‖a − b‖/‖b‖` of two gradients.
pub fn compare(a: &[f64], b: &[f64]) -> (f64, f64) {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let cos = if na > 0.0 && nb > 0.0 {
        dot / (na * nb)
    } else {
        0.0
    };
    let rel = if nb > 0.0 { diff / nb } else { diff };
    (cos, rel)
}
