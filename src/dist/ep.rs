//! EP gradients (Eq. 28) with the free and clamped eigenstates split over the ranks.
//!
//! The eigen engine's gradient needs three eigenstates of `H(β, θ, u, d)` (β = 0, ±β, Eq. 16)
//! and the expectations `⟨P_k⟩` of the parameters' strings in them. Under several ranks each
//! state is a distributed vector ([`Layout`]): the one Lanczos runs on [`DistOperator`] blocks
//! as [`super::lowest_eigenpairs`] does, and every `⟨a|P|b⟩` is a sum over the ranks
//! ([`DistPaulis`]): strings that flip no global qubit pair each rank's blocks locally, the
//! others read the partner rank's block of `b`, exchanged once per global flip pattern.

use std::cell::Cell;

use crate::ep::{
    check_beta, ep_difference, products_spent, solve_level, EpError, EpGradient, EpParams,
    ExactGradient,
};
use crate::hamiltonian::{Example, Model};
use crate::linalg::{
    lanczos_memory, minres_projected_in, BasisMemory, LanczosParams, LanczosWorkspace,
};
use crate::pauli::{Letter, PauliString, Phase};
use crate::scalar::{Scalar, C64};
use crate::state::matrix_element_pauli;
use crate::state::memory::{state_bytes, MemoryPlan};

use super::comm::sendrecv_scalars;
use super::eigen::{agree_on_basis, distributed_params};
use super::{world, Comm, DistOperator, Layout};

/// A string of a [`DistPaulis`] on this rank: its index, its part on the local qubits and the
/// factor its global part contributes to this rank's rows.
type Member = (usize, PauliString, C64);

/// Matrix elements `⟨a|P_j|b⟩` of a fixed list of Pauli strings between two vectors split
/// over the ranks by a [`Layout`].
///
/// A string `P` with masks `(x, z)` maps the block of rank `r ⊕ x_hi` into the rows of rank
/// `r`: on those rows it is `i^{3k} (−1)^{|z_hi ∧ r|} · P_lo` with `k = |x_hi ∧ z_hi|` and
/// `P_lo` its part on the local qubits (the sign and `i` conventions of
/// [`matrix_element_pauli`]). So each rank evaluates `⟨a_r|P_lo|b_{r⊕x_hi}⟩` with the
/// one-process kernel, the strings are grouped by `x_hi` (one block exchange per pattern that
/// flips a global qubit, in the same order on every rank) and the partial sums are added over
/// the ranks in rank order.
pub struct DistPaulis {
    layout: Layout,
    /// Per global flip pattern, the local pattern first: the rank whose block of `b` the
    /// strings read, and each string's index, its local part and its global factor here.
    groups: Vec<(usize, Vec<Member>)>,
    len: usize,
}

impl DistPaulis {
    /// Compiles `strings` (on `layout.qubits()` qubits) for the calling rank of `layout`.
    ///
    /// # Panics
    /// If a string acts on a qubit beyond the layout's (a caller bug).
    pub fn new(strings: &[PauliString], layout: Layout) -> Self {
        let l = layout.local_qubits();
        let lo = if l >= 64 { u64::MAX } else { (1u64 << l) - 1 };
        // The global part of a mask (`l` may be 64 with one rank: nothing is global then).
        let high = |m: u64| m.checked_shr(l as u32).unwrap_or(0);
        let rank = layout.rank() as u64;
        for p in strings {
            assert!(
                p.min_qubits() <= layout.qubits(),
                "string beyond the layout's {} qubits",
                layout.qubits()
            );
        }
        let mut patterns: Vec<u64> = strings.iter().map(|p| high(p.x())).collect();
        patterns.push(0);
        patterns.sort_unstable();
        patterns.dedup();
        let groups = patterns
            .iter()
            .map(|&gx| {
                let members = strings
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| high(p.x()) == gx)
                    .map(|(j, p)| {
                        let zh = high(p.z());
                        let k = (gx & zh).count_ones();
                        let e = (3 * k + 2 * (zh & rank).count_ones()) % 4;
                        let local = PauliString::from_masks(p.x() & lo, p.z() & lo);
                        (j, local, Phase(e as u8).to_complex())
                    })
                    .collect();
                ((rank ^ gx) as usize, members)
            })
            .collect();
        Self {
            layout,
            groups,
            len: strings.len(),
        }
    }

    /// Block exchanges per call of [`DistPaulis::matrix_elements`].
    pub fn exchanges(&self) -> usize {
        self.groups.len() - 1
    }

    /// `⟨a|P_j|b⟩` for every string `j`, from this rank's blocks of `a` and `b`; `buf` (one
    /// block) receives the partner ranks' blocks of `b`. Every rank must call it (same strings,
    /// same order); every rank gets the same values.
    ///
    /// # Panics
    /// If a block does not have [`Layout::local_dim`] entries (a caller bug).
    pub fn matrix_elements<T: Scalar>(
        &self,
        comm: &dyn Comm,
        a: &[T],
        b: &[T],
        buf: &mut [T],
    ) -> Vec<C64> {
        let dim = self.layout.local_dim();
        assert!(
            a.len() == dim && b.len() == dim && buf.len() == dim,
            "blocks of the wrong length"
        );
        let mut sums = vec![0.0; 2 * self.len];
        for (partner, members) in &self.groups {
            let src: &[T] = if *partner == self.layout.rank() {
                b
            } else {
                sendrecv_scalars(comm, *partner, b, buf);
                buf
            };
            for &(j, p, factor) in members {
                let v = factor * matrix_element_pauli(a, p, src);
                sums[2 * j] = v.re;
                sums[2 * j + 1] = v.im;
            }
        }
        comm.allreduce_sum(&mut sums);
        sums.chunks(2).map(|c| C64::new(c[0], c[1])).collect()
    }
}

/// The world's communicator and this rank's layout when EP gradients of a `qubits`-qubit
/// model split their states over the ranks: [`world`] has several ranks and they split the
/// qubits ([`Layout::of`]). `None` on one process, or for a rank count that cannot split the
/// state (the command reports that; the gradient is then computed whole on every rank).
pub fn split_world(qubits: usize) -> Option<(&'static dyn Comm, Layout)> {
    let comm = world();
    if comm.size() == 1 {
        return None;
    }
    Layout::of(comm, qubits).ok().map(|l| (comm, l))
}

thread_local! {
    /// Whether this thread is inside [`splitting_states`].
    static SPLIT_STATES: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the eigen engine's EP gradients splitting their states over the ranks of
/// [`world`] ([`ep_split`]): `qep grad` asks for it. Elsewhere every rank computes a gradient
/// whole: studies and training share their items out over the ranks instead, and their
/// numbers stay bit for bit those of one process.
pub fn splitting_states<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SPLIT_STATES.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SPLIT_STATES.with(|s| s.replace(true)));
    f()
}

/// The world's communicator and this rank's layout when the eigen engine's EP gradient with
/// `params` splits its states over the ranks: inside [`splitting_states`], on several ranks
/// that split the model's `qubits` ([`split_world`]), and without shots (shots are drawn
/// from a whole state).
pub fn ep_split(qubits: usize, params: &EpParams) -> Option<(&'static dyn Comm, Layout)> {
    if !SPLIT_STATES.with(Cell::get) || params.shots.is_some() {
        return None;
    }
    split_world(qubits)
}

/// As [`ep_split`], but a gradient that would split its states on a rank count that cannot
/// split them (not a power of two, or more ranks than half the amplitudes) is an error
/// instead of running whole on every rank without a word: `qep grad` refuses it, while its
/// engines that never split (shots, thermal, classical) run on any number of ranks.
///
/// # Errors
/// [`DistError`](super::DistError) from [`Layout::of`] when splitting is asked for and impossible.
pub fn ep_split_checked(
    qubits: usize,
    params: &EpParams,
) -> Result<Option<(&'static dyn Comm, Layout)>, super::DistError> {
    let comm = world();
    if !SPLIT_STATES.with(Cell::get) || params.shots.is_some() || comm.size() == 1 {
        return Ok(None);
    }
    Layout::of(comm, qubits).map(|l| Some((comm, l)))
}

/// What [`ep_gradient`] allocates on each rank of `layout` with `params`: the operators'
/// diagonals and exchange buffers (free, one clamped, and with `oracle` the cost operator),
/// the eigensolver of level `params.level` (plus the followed neighbour), the free and
/// clamped states, the block received for matrix elements, and with `oracle` MINRES's vectors
/// and `C·ψ`; each one block of [`Layout::local_qubits`] qubits (complex amplitudes, the
/// conservative case), with what the process already holds. Its description names the
/// per-rank share.
pub fn ep_gradient_memory(layout: Layout, params: &EpParams, oracle: bool) -> MemoryPlan {
    let (l, ranks) = (layout.local_qubits(), layout.ranks());
    let block = state_bytes(l, 16);
    let lanczos = LanczosParams {
        k: params.level + 2,
        gap: true,
        ..distributed_params(&params.lanczos, ranks)
    };
    let operators = 2 + usize::from(oracle);
    let mut plan = MemoryPlan::new(format!(
        "qep grad: distributed EP gradient of {} qubits, per rank of {ranks} (each holds 2^{l} amplitudes)",
        layout.qubits()
    ));
    plan.add_n("operator diagonals", operators, block);
    if ranks > 1 {
        plan.add_n("exchange buffers", 2 * operators, block);
    }
    plan.extend(&lanczos_memory(l, 16, &lanczos))
        .add_n("free and clamped states", 3, block)
        .add("partner block for ⟨P_k⟩", block);
    if oracle {
        plan.add_n("exact gradient (MINRES vectors and C·ψ)", 9, block);
    }
    plan
}

/// The eigen engine's EP gradient (Eq. 28, or the one-sided variant) and, with
/// `params.exact`, its MINRES oracle, with every state split over the ranks of `comm`
/// (`layout` = this rank's, for the model's qubits): the free level of `H(0)`, the clamped
/// levels of `H(±β)` warm-started from the free state and followed by overlap as one process
/// does, every `⟨P_k⟩` a distributed matrix element ([`DistPaulis`]). The numbers agree with
/// one process's to the solvers' tolerance; every rank returns the same. The per-rank memory
/// ([`ep_gradient_memory`]) is checked before anything is allocated. Shots are not drawn
/// here (the caller measures a whole state).
///
/// Every rank of `comm` must call it with the same arguments.
///
/// # Errors
/// As the one-process gradient: β, targets, degenerate level (with the oracle), model,
/// memory and solver errors.
pub fn ep_gradient(
    model: &Model,
    theta: &[f64],
    example: &Example,
    params: &EpParams,
    comm: &dyn Comm,
    layout: Layout,
) -> Result<(EpGradient, Option<ExactGradient>), EpError> {
    check_beta(params.beta)?;
    if example.targets.is_empty() {
        return Err(EpError::NoTargets);
    }
    ep_gradient_memory(layout, params, params.exact).check()?;
    let h0 = model.hamiltonian(theta, Some(example), 0.0)?;
    let op0 = DistOperator::with_layout(&h0, comm, layout)?;
    let mut lanczos = distributed_params(&params.lanczos, comm.size());
    if comm.size() > 1 && lanczos.memory == BasisMemory::Auto {
        agree_on_basis(&mut lanczos, layout.qubits(), &op0, comm);
    }
    let p = EpParams {
        lanczos,
        ..params.clone()
    };
    let run = Run {
        model,
        theta,
        example,
        params: &p,
        comm,
        layout,
        op0: &op0,
    };
    if op0.is_real() {
        run.gradient::<f64>()
    } else {
        run.gradient::<C64>()
    }
}

/// One gradient's fixed inputs.
struct Run<'a> {
    model: &'a Model,
    theta: &'a [f64],
    example: &'a Example,
    params: &'a EpParams,
    comm: &'a dyn Comm,
    layout: Layout,
    op0: &'a DistOperator<'a>,
}

/// `Σ_j c_kj value(⟨P_kj⟩)` per parameter from the values of all parameters' strings in
/// model order (the order [`Run::param_strings`] lists them).
fn per_param(model: &Model, values: &[C64], value: impl Fn(C64) -> f64) -> Vec<f64> {
    let mut next = values.iter();
    model
        .params
        .iter()
        .map(|p| p.combine(|_| next.next().map_or(f64::NAN, |&v| value(v))))
        .collect()
}

impl Run<'_> {
    /// Every parameter's strings, parameter by parameter.
    fn param_strings(&self) -> Vec<PauliString> {
        self.model
            .params
            .iter()
            .flat_map(|p| p.strings.iter().map(|&(s, _)| s))
            .collect()
    }

    fn gradient<T: Scalar>(&self) -> Result<(EpGradient, Option<ExactGradient>), EpError> {
        let (model, params, comm) = (self.model, self.params, self.comm);
        let mut ws = LanczosWorkspace::<T>::new();
        let mut buf: Vec<T> = vec![T::zero(); self.layout.local_dim()];
        let gap = params.gap || params.exact;
        let (free, _) = solve_level::<T, _>(
            self.op0,
            params.level,
            &params.lanczos,
            None,
            false,
            gap,
            &mut ws,
        )?;
        if params.exact {
            if let Some(g) = free.gap.filter(|&g| g < params.gap_threshold) {
                return Err(EpError::Degenerate {
                    level: params.level,
                    gap: g,
                    threshold: params.gap_threshold,
                });
            }
        }
        let strings = DistPaulis::new(&self.param_strings(), self.layout);
        let mut expect = |psi: &[T]| {
            let v = strings.matrix_elements(comm, psi, psi, &mut buf);
            per_param(model, &v, |v| v.re)
        };
        let betas: Vec<f64> = if params.one_sided {
            vec![params.beta]
        } else {
            vec![params.beta, -params.beta]
        };
        let cost_op = model.cost_operator(&self.example.targets);
        // As one process: a gap above 4β‖C‖ makes the clamped ground state the continuation
        // of the free one (Weyl, Davis–Kahan), so the free state alone is a start Lanczos
        // must converge from.
        let pure_warm = params.warm_start
            && params.level == 0
            && free
                .gap
                .is_some_and(|g| g > 4.0 * params.beta.abs() * cost_op.norm_bound());
        let pure = LanczosParams {
            warm_mix: 0.0,
            ..params.lanczos.clone()
        };
        let mut clamped = Vec::with_capacity(2);
        let mut overlaps = Vec::with_capacity(2);
        let mut residuals = vec![free.residual];
        let mut matvecs = free.matvecs;
        for &b in &betas {
            let h = model.hamiltonian(self.theta, Some(self.example), b)?;
            let op = DistOperator::with_layout(&h, comm, self.layout)?;
            let solved = if pure_warm {
                match solve_level::<T, _>(&op, 0, &pure, Some(&free.state), true, false, &mut ws) {
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
                    &mut ws,
                )?,
            };
            matvecs += lvl.matvecs;
            residuals.push(lvl.residual);
            overlaps.push(ov);
            clamped.push(expect(&lvl.state));
            ws.give(lvl.state);
        }
        let (a, b) = if params.one_sided {
            (clamped.swap_remove(0), expect(&free.state))
        } else {
            let minus = clamped.pop().unwrap_or_default();
            (clamped.pop().unwrap_or_default(), minus)
        };
        let ep = ep_difference(&a, &b, params.beta, params.one_sided);
        // ⟨C⟩ and ⟨Z_i⟩ on the outputs in the free state, from one set of matrix elements.
        let mut extra: Vec<PauliString> = cost_op.terms().iter().map(|&(p, _)| p).collect();
        let n_cost = extra.len();
        extra.extend(
            model
                .outputs
                .iter()
                .map(|&q| PauliString::single(Letter::Z, q)),
        );
        let values = DistPaulis::new(&extra, self.layout).matrix_elements(
            comm,
            &free.state,
            &free.state,
            &mut buf,
        );
        let cost = cost_op
            .terms()
            .iter()
            .zip(&values)
            .map(|(&(_, c), &v)| c * v)
            .sum::<C64>()
            .re;
        let z_outputs = values[n_cost..].iter().map(|v| v.re).collect();
        let oracle = if params.exact {
            // The one-process oracle: y solves Q (H − E) Q y = Q C ψ (MINRES on the blocks),
            // d⟨C⟩/dθ_k = −2 Re ⟨y|P_k|ψ⟩.
            let c = DistOperator::with_layout(&cost_op, comm, self.layout)?;
            let mut cpsi: Vec<T> = ws.take(free.state.len(), 0);
            c.apply(&free.state, &mut cpsi);
            let solved = minres_projected_in(
                self.op0,
                free.energy,
                &free.state,
                &cpsi,
                &params.minres,
                &mut ws,
            );
            ws.give(cpsi);
            let (y, info) = solved?;
            let v = strings.matrix_elements(comm, &y, &free.state, &mut buf);
            Some(ExactGradient {
                params: model.params.iter().map(|p| p.label.clone()).collect(),
                exact: per_param(model, &v, |v| -2.0 * v.re),
                iterations: info.iterations,
                matvecs: info.matvecs,
                residual: info.residual,
                // The distributed free solve finds its gap level by the deflated solve
                // (`LanczosParams::gap_from_run` stays off), counted in the free matvecs.
                gap_check_matvecs: 0,
            })
        } else {
            None
        };
        let g = EpGradient {
            params: model.params.iter().map(|p| p.label.clone()).collect(),
            ep,
            beta: params.beta,
            one_sided: params.one_sided,
            level: params.level,
            energy: free.energy,
            gap: free.gap,
            // The distributed free solve's gap level is solved to the tolerance like the
            // free one (a deflated solve): the gap is known to their two residuals.
            gap_error: free.gap.map(|_| 2.0 * params.lanczos.tol),
            cost,
            z_outputs,
            overlaps,
            residuals,
            matvecs,
            ep_std: None,
            shots_total: None,
        };
        Ok((g, oracle))
    }
}
