//! `qep evolve FILE [--initial …] --times … --observe …`.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use qep::evolve::{
    evolve_lindblad_with_progress, evolve_trajectories_with_progress, jump_list, DensityMatrix,
    Options, TrajectoryOptions,
};
use qep::evolve::{lindblad_memory, trajectories_memory};
use qep::linalg::{eigenpairs, eigenpairs_memory, operator_memory, LanczosParams};
use qep::operator::XMaskOperator;
use qep::pauli::{PauliString, PauliSum};
use qep::state::StateVector;
use qep::state::{memory, MemoryPlan};
use qep::C64;

use super::args::{EvolveArgs, EvolveMethod};
use super::{bar, finite, in_file, load, print_json, spinner};
use qep::adiabatic::{evolve_schrodinger, krylov_memory, KrylovParams};

/// The JSON of `qep evolve`.
#[derive(Serialize)]
struct EvolveOut {
    qubits: usize,
    method: &'static str,
    jumps: usize,
    times: Vec<f64>,
    observables: BTreeMap<String, Vec<f64>>,
    purity: Vec<f64>,
    trace: Vec<f64>,
    /// The smallest eigenvalue of ρ where it was computed, `null` at the other times.
    min_eigenvalue: Option<Vec<Option<f64>>>,
    steps: usize,
    rejected_steps: usize,
    seconds: f64,
}

/// The JSON of `qep evolve --method trajectories`: the keys of the `rho` output where they
/// apply, plus the statistics of the trajectories.
#[derive(Serialize)]
struct TrajectoriesOut {
    qubits: usize,
    method: &'static str,
    /// Trajectories run (1 for a model without jumps: the evolution is deterministic).
    trajectories: usize,
    /// Mean number of jumps per trajectory.
    jumps: f64,
    /// Number of jump operators.
    jump_operators: usize,
    /// Total jumps per jump operator.
    jumps_per_operator: Vec<u64>,
    times: Vec<f64>,
    observables: BTreeMap<String, Vec<f64>>,
    std_errors: BTreeMap<String, Vec<f64>>,
    /// Mean of |⟨ψ_a|ψ_b⟩|² over disjoint pairs (unbiased for Tr ρ²), or null.
    purity: Option<Vec<f64>>,
    purity_std_errors: Option<Vec<f64>>,
    steps: usize,
    rejected_steps: usize,
    rhs_evals: usize,
    seconds: f64,
}

/// Stored pair states above which the trajectory purity is not estimated.
const PURITY_MAX_BYTES: u128 = 1 << 30;

pub fn run(a: EvolveArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let file = &a.model.file;
    let model = load(file)?;
    let n = model.qubits;
    let h = in_file(file, model.hamiltonian(&model.theta(), None, 0.0))?;
    let jumps = jump_list(&model.settings.jumps);
    let method = a.method.unwrap_or(if jumps.is_empty() {
        EvolveMethod::Krylov
    } else {
        EvolveMethod::Rho
    });
    in_file(file, evolve_memory(&a, n, &h, jumps.len(), method).check())?;
    let psi0: Vec<C64> = match a.initial.as_str() {
        "plus" => in_file(file, StateVector::<C64>::plus(n))?.into_vec(),
        "zero" => in_file(file, StateVector::<C64>::basis(n, 0))?.into_vec(),
        "ground" => {
            let op = in_file(file, XMaskOperator::new(&h))?;
            let s = in_file(file, eigenpairs(&op, &LanczosParams::default(), None))?;
            s.vector_c64(0)
        }
        other => {
            let b: usize = other
                .strip_prefix("basis:")
                .and_then(|b| b.parse().ok())
                .filter(|&b: &usize| b < (1usize << n.min(63)))
                .with_context(|| format!("--initial {other:?}: expected plus, zero, ground or basis:B with B < 2^{n}"))?;
            in_file(file, StateVector::<C64>::basis(n, b))?.into_vec()
        }
    };
    let mut observables = Vec::new();
    for label in &a.observe {
        let p = PauliString::parse(label).with_context(|| format!("--observe {label:?}"))?;
        if p.min_qubits() > n {
            bail!("--observe {label:?}: acts on a qubit ≥ {n}, the model has {n} qubits");
        }
        let mut s = PauliSum::new(n);
        s.add(p, 1.0);
        observables.push(s);
    }
    match method {
        EvolveMethod::Trajectories => {
            return trajectories(&a, &model, &h, &jumps, &psi0, &observables, t0)
        }
        EvolveMethod::Krylov => {
            if !jumps.is_empty() {
                bail!(
                    "{}: --method krylov evolves pure states under the Schrödinger equation, \
                     but the model has {} Lindblad jump operators; use --method rho or \
                     trajectories",
                    file.display(),
                    jumps.len()
                );
            }
            return krylov(&a, &model, &h, &psi0, &observables, t0);
        }
        EvolveMethod::Rho => {}
    }
    let (atol, rtol) = (a.atol.unwrap_or(1e-10), a.rtol.unwrap_or(1e-8));
    let rho0 = in_file(file, DensityMatrix::from_pure(&psi0))?;
    let opts = Options {
        atol,
        rtol,
        positivity: !a.no_positivity,
        ..Options::default()
    };
    // Progress in thousandths of the final time, so that the bar knows the time left.
    let t_end = a.times.last().copied().unwrap_or(0.0);
    let pb = bar(
        1000,
        format!("Lindblad evolution of {n} qubits to t = {t_end}"),
        "‰ of t",
    );
    let tr = evolve_lindblad_with_progress(
        &h,
        &jumps,
        &rho0,
        &a.times,
        &observables,
        &opts,
        &|t, end| {
            if end > 0.0 {
                pb.set_position((1000.0 * t / end) as u64)
            }
        },
    );
    pb.finish_and_clear();
    let tr = in_file(file, tr)?;
    let out = EvolveOut {
        qubits: n,
        method: "rho",
        jumps: jumps.len(),
        times: tr.times.clone(),
        observables: a
            .observe
            .iter()
            .cloned()
            .zip(tr.observables.iter().cloned())
            .collect(),
        purity: tr.purity.clone(),
        trace: tr.trace.clone(),
        // The library marks the times without an eigensolve by NaN: not numbers, so `null`.
        min_eigenvalue: tr
            .min_eigenvalue
            .as_ref()
            .map(|v| v.iter().map(|&x| (!x.is_nan()).then_some(x)).collect()),
        steps: tr.stats.steps,
        rejected_steps: tr.stats.rejected,
        seconds: t0.elapsed().as_secs_f64(),
    };
    finite(file, &out)?;
    if a.model.json {
        return print_json(
            &out,
            &model,
            None,
            serde_json::json!({"initial": a.initial, "method": "rho", "atol": atol, "rtol": rtol}),
        );
    }
    print!("{:>10}", "t");
    for l in &a.observe {
        print!(" {:>14}", l);
    }
    println!(" {:>10}", "purity");
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in &a.observe {
            print!(" {:>14.10}", out.observables[l][i]);
        }
        println!(" {:>10.6}", out.purity[i]);
    }
    println!(
        "{} qubits, {} jump operators, {} steps ({} rejected), {:.2} s",
        n, out.jumps, out.steps, out.rejected_steps, out.seconds
    );
    Ok(())
}

/// Every buffer `qep evolve` holds at its peak, by method: the start state (and the ground
/// state's eigensolver for `--initial ground`), then the Krylov propagator, the Lindblad
/// integrator's density matrices or the trajectories' per-worker workspaces.
fn evolve_memory(
    a: &EvolveArgs,
    n: usize,
    h: &PauliSum,
    jumps: usize,
    method: EvolveMethod,
) -> MemoryPlan {
    let vec = memory::state_bytes(n, 16);
    let mut plan = MemoryPlan::new(match method {
        EvolveMethod::Krylov => "qep evolve --method krylov",
        EvolveMethod::Rho => "qep evolve --method rho",
        EvolveMethod::Trajectories => "qep evolve --method trajectories",
    });
    plan.add("initial state", vec);
    if a.initial == "ground" {
        plan.extend(&operator_memory(h))
            .extend(&eigenpairs_memory(h, &LanczosParams::default()));
    }
    match method {
        EvolveMethod::Krylov => {
            let params = KrylovParams {
                tol: a.krylov_tol,
                ..KrylovParams::default()
            };
            plan.add("evolving state", vec)
                .extend(&operator_memory(h))
                .extend(&krylov_memory(n, &params));
        }
        EvolveMethod::Rho => {
            plan.extend(&operator_memory(h)).extend(&lindblad_memory(n));
        }
        EvolveMethod::Trajectories => {
            let pair_bytes = vec
                .saturating_mul(a.times.len() as u128)
                .saturating_mul(rayon::current_num_threads() as u128);
            plan.extend(&operator_memory(h))
                .extend(&trajectories_memory(
                    n,
                    jumps,
                    a.trajectories,
                    a.times.len(),
                    pair_bytes <= PURITY_MAX_BYTES,
                    rayon::current_num_threads(),
                ));
        }
    }
    plan
}

/// `--method trajectories`: runs the library's trajectories with a progress bar and prints.
fn trajectories(
    a: &EvolveArgs,
    model: &qep::hamiltonian::Model,
    h: &PauliSum,
    jumps: &[(PauliSum, f64)],
    psi0: &[C64],
    observables: &[PauliSum],
    t0: std::time::Instant,
) -> Result<()> {
    let file = &a.model.file;
    let n = model.qubits;
    let defaults = TrajectoryOptions::default();
    // The pair states for the purity: one per output time per worker thread.
    let pair_bytes = qep::state::memory::state_bytes(n, 16)
        .saturating_mul(a.times.len() as u128)
        .saturating_mul(rayon::current_num_threads() as u128);
    let opts = TrajectoryOptions {
        ntraj: a.trajectories,
        seed: a.seed,
        atol: a.atol.unwrap_or(defaults.atol),
        rtol: a.rtol.unwrap_or(defaults.rtol),
        purity: pair_bytes <= PURITY_MAX_BYTES,
        ..defaults
    };
    let deterministic = jumps.iter().all(|(_, g)| *g == 0.0);
    let pb = ProgressBar::new(if deterministic {
        1
    } else {
        a.trajectories as u64
    });
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} trajectories [{elapsed} < {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let tr =
        evolve_trajectories_with_progress(h, jumps, psi0, &a.times, observables, &opts, &|| {
            pb.inc(1)
        });
    pb.finish_and_clear();
    let tr = in_file(file, tr)?;
    let by_label = |v: &[Vec<f64>]| -> BTreeMap<String, Vec<f64>> {
        a.observe.iter().cloned().zip(v.iter().cloned()).collect()
    };
    let out = TrajectoriesOut {
        qubits: n,
        method: "trajectories",
        trajectories: tr.ntraj,
        jumps: tr.jumps_mean,
        jump_operators: jumps.len(),
        jumps_per_operator: tr.jumps_per_channel.clone(),
        times: tr.times.clone(),
        observables: by_label(&tr.observables),
        std_errors: by_label(&tr.std_errors),
        purity: tr.purity.clone(),
        purity_std_errors: tr.purity_std_errors.clone(),
        steps: tr.stats.steps,
        rejected_steps: tr.stats.rejected,
        rhs_evals: tr.stats.rhs_evals,
        seconds: t0.elapsed().as_secs_f64(),
    };
    finite(file, &out)?;
    if a.model.json {
        return print_json(
            &out,
            model,
            Some(a.seed),
            serde_json::json!({
                "initial": a.initial,
                "method": "trajectories",
                "trajectories": a.trajectories,
                "atol": opts.atol,
                "rtol": opts.rtol,
            }),
        );
    }
    print!("{:>10}", "t");
    for l in &a.observe {
        print!(" {:>24}", l);
    }
    println!(" {:>10}", "purity");
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in &a.observe {
            print!(
                " {:>12.6} ± {:>9.6}",
                out.observables[l][i], out.std_errors[l][i]
            );
        }
        match &out.purity {
            Some(p) => println!(" {:>10.6}", p[i]),
            None => println!(" {:>10}", "-"),
        }
    }
    println!(
        "{} qubits, {} jump operators, {} trajectories (seed {}), {:.3} jumps per trajectory, \
         {} steps ({} rejected), {:.2} s",
        n,
        out.jump_operators,
        out.trajectories,
        a.seed,
        out.jumps,
        out.steps,
        out.rejected_steps,
        out.seconds
    );
    Ok(())
}

/// The JSON of `qep evolve --method krylov`.
#[derive(Serialize)]
struct KrylovOut {
    qubits: usize,
    method: &'static str,
    times: Vec<f64>,
    observables: BTreeMap<String, Vec<f64>>,
    purity: Vec<f64>,
    norm_error: Vec<f64>,
    matvecs: usize,
    substeps: usize,
    error_estimate: f64,
    seconds: f64,
}

/// `--method krylov`: the state vector under the Schrödinger equation.
fn krylov(
    a: &EvolveArgs,
    model: &qep::hamiltonian::Model,
    h: &PauliSum,
    psi0: &[C64],
    observables: &[PauliSum],
    t0: std::time::Instant,
) -> Result<()> {
    let file = &a.model.file;
    let pb = (model.qubits >= 16).then(|| {
        spinner(format!(
            "Schrödinger evolution of {} qubits to t = {}",
            model.qubits,
            a.times.last().copied().unwrap_or(0.0)
        ))
    });
    let params = KrylovParams {
        tol: a.krylov_tol,
        ..KrylovParams::default()
    };
    let r = evolve_schrodinger(h, psi0, &a.times, observables, params);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let r = in_file(file, r)?;
    let out = KrylovOut {
        qubits: model.qubits,
        method: "krylov",
        times: r.times.clone(),
        observables: a
            .observe
            .iter()
            .cloned()
            .zip(r.observables.clone())
            .collect(),
        purity: vec![1.0; r.times.len()],
        norm_error: r.norm_error.clone(),
        matvecs: r.krylov.matvecs,
        substeps: r.krylov.substeps,
        error_estimate: r.krylov.error_estimate,
        seconds: t0.elapsed().as_secs_f64(),
    };
    finite(file, &out)?;
    if a.model.json {
        return print_json(
            &out,
            model,
            None,
            serde_json::json!({"initial": a.initial, "method": "krylov", "krylov": params}),
        );
    }
    print!("{:>10}", "t");
    for l in &a.observe {
        print!(" {:>14}", l);
    }
    println!();
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in &a.observe {
            print!(" {:>14.10}", out.observables[l][i]);
        }
        println!();
    }
    println!(
        "{} qubits, Schrödinger (Krylov): {} H·ψ in {} sub-steps, error estimate {:.1e}, {:.2} s",
        model.qubits, out.matvecs, out.substeps, out.error_estimate, out.seconds
    );
    Ok(())
}
