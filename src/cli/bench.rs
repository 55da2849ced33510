//! `qep bench FILE [--reps R]`.

use anyhow::{bail, Result};
use serde::Serialize;

use qep::linalg::operator_memory;
use qep::measure::{time_sampling, SamplingTiming};
use qep::operator::{ApplyTiming, ApplyTimingParams, DotTiming, XMaskOperator};
use qep::state::{memory, MemoryPlan};

/// The JSON of `qep bench`: the H·ψ timing, plus the sampler's with --shots.
#[derive(Serialize)]
struct BenchOut {
    #[serde(flatten)]
    apply: ApplyTiming,
    #[serde(flatten)]
    sampling: Option<SamplingTiming>,
    #[serde(flatten)]
    dot: Option<DotTiming>,
    /// Bytes each rank sends per H·ψ (0 on one rank); with several ranks the timing is of the
    /// distributed H·ψ.
    mpi_bytes_per_apply: usize,
    /// MPI ranks the state is split over.
    ranks: usize,
}

use super::args::BenchArgs;
use super::{bytes, finite, in_file, load, print_json, spinner};

pub fn run(a: BenchArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let h = in_file(file, model.hamiltonian(&model.theta(), None, 0.0))?;
    let world = qep::dist::world();
    if world.size() > 1 {
        return run_distributed(&a, &model, &h, world);
    }
    // The operator, the timed ψ and H·ψ, and with --shots the sampled state, its cumulative
    // distribution and the shot and uniform lists.
    let n = model.qubits;
    let mut plan = MemoryPlan::new("qep bench");
    plan.extend(&operator_memory(&h))
        .add_n("ψ and H·ψ", 2, memory::state_bytes(n, 16));
    if let Some(s) = a.shots {
        plan.add("sampled state", memory::state_bytes(n, 16))
            .add("cumulative distribution", memory::state_bytes(n, 8))
            .add_n(
                "shots and sorted uniforms",
                2,
                u128::from(s).saturating_mul(8),
            );
    }
    in_file(file, plan.check())?;
    let op = in_file(file, XMaskOperator::new(&h))?;
    let params = ApplyTimingParams {
        reps: a.reps,
        warmup: a.warmup,
        seed: a.seed,
        real: a.real,
    };
    let pb = (op.qubits() >= 22).then(|| {
        spinner(format!(
            "timing {} + {} applications of H·ψ on {} qubits",
            a.warmup,
            a.reps,
            op.qubits()
        ))
    });
    let t = if a.precision == "single" {
        op.time_apply_single(&params)
    } else {
        op.time_apply(&params)
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let t = in_file(file, t)?;
    let dot = if a.dot {
        if a.precision == "single" {
            bail!("--dot times the double-precision apply_dot; drop --precision single");
        }
        let d = in_file(file, op.time_apply_dot(&params))?;
        let tol = 1e-10 * d.separate_dot_value.abs().max(op.norm_bound());
        if (d.fused_dot_value - d.separate_dot_value).abs() > tol {
            bail!(
                "fused ⟨ψ|H|ψ⟩ {} differs from the separate pass's {}",
                d.fused_dot_value,
                d.separate_dot_value
            );
        }
        Some(d)
    } else {
        None
    };
    let sampling = match a.shots {
        Some(s) => Some(in_file(
            file,
            time_sampling(op.qubits(), s, a.reps, a.seed),
        )?),
        None => None,
    };
    finite(file, &(&t, &sampling, &dot))?;
    if a.model.json {
        let out = BenchOut {
            apply: t,
            sampling,
            dot,
            mpi_bytes_per_apply: 0,
            ranks: 1,
        };
        return print_json(&out, &model, Some(a.seed), serde_json::to_value(&params)?);
    }
    println!(
        "{}: {} qubits, {} arithmetic in {} precision, {} X-mask groups in {} passes, {} threads",
        model.name, t.qubits, t.arithmetic, t.precision, t.groups, t.passes, t.threads
    );
    println!(
        "H·ψ  median {:.6} s (min {:.6} s over {} reps)",
        t.apply_seconds, t.min_seconds, t.reps
    );
    if let Some(c) = t.apply_cpu_seconds {
        println!("CPU  {c:.6} s per application (user + system, all threads, mean)");
    }
    println!(
        "traffic {} per application → effective {:.1} GB/s",
        bytes(t.bytes_per_apply as u128),
        t.effective_gbps
    );
    println!("check ⟨ψ|H|ψ⟩ = {:.12}", t.check_value);
    if let Some(d) = &dot {
        let cpu = |c: Option<f64>| c.map_or(String::new(), |c| format!(" (CPU {c:.6} s)"));
        println!(
            "apply_dot median {:.6} s{}; apply then dot {:.6} s{}",
            d.apply_dot_seconds,
            cpu(d.apply_dot_cpu_seconds),
            d.apply_then_dot_seconds,
            cpu(d.apply_then_dot_cpu_seconds)
        );
    }
    if let Some(s) = sampling {
        println!(
            "sampling {} shots: median {:.6} s over {} reps ({} distinct outcomes)",
            s.shots,
            s.sample_seconds,
            s.sample_times.len(),
            s.distinct_outcomes
        );
    }
    Ok(())
}

/// `qep bench` under `mpirun` with several ranks: times the distributed H·ψ (each rank holds
/// one block of the state) and reports the bytes each rank sends per application.
fn run_distributed(
    a: &BenchArgs,
    model: &qep::hamiltonian::Model,
    h: &qep::pauli::PauliSum,
    world: &dyn qep::dist::Comm,
) -> Result<()> {
    let file = &a.model.file;
    if a.precision == "single" {
        anyhow::bail!(
            "--precision single times the one-process kernel; run it without mpirun ({} ranks here)",
            world.size()
        );
    }
    if a.shots.is_some() {
        anyhow::bail!(
            "--shots times the one-process sampler; run it without mpirun ({} ranks here)",
            world.size()
        );
    }
    let params = ApplyTimingParams {
        reps: a.reps,
        warmup: a.warmup,
        seed: a.seed,
        real: a.real,
    };
    let d = in_file(file, qep::dist::time_apply(h, world, &params))?;
    finite(file, &d.apply)?;
    if a.model.json {
        let out = BenchOut {
            apply: d.apply,
            sampling: None,
            dot: None,
            mpi_bytes_per_apply: d.mpi_bytes_per_apply,
            ranks: world.size(),
        };
        return print_json(&out, model, Some(a.seed), serde_json::to_value(&params)?);
    }
    let t = &d.apply;
    println!(
        "{}: {} qubits on {} ranks, {} arithmetic, {} local X-mask groups, {} threads per rank",
        model.name,
        t.qubits,
        world.size(),
        t.arithmetic,
        t.groups,
        t.threads
    );
    println!(
        "H·ψ  median {:.6} s (min {:.6} s over {} reps)",
        t.apply_seconds, t.min_seconds, t.reps
    );
    println!(
        "sent {} per rank per application in {} block exchanges",
        bytes(d.mpi_bytes_per_apply as u128),
        d.exchanges
    );
    println!("check ⟨ψ|H|ψ⟩ = {:.12}", t.check_value);
    Ok(())
}
