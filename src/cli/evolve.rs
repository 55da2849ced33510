//! `qep evolve FILE [--initial …] --times … --observe …` ([`qep::evolve::runner`]).

use anyhow::Result;

use qep::evolve::runner::{
    evolve, Evolution, EvolveMethod, EvolveSettings, KrylovEvolution, RhoEvolution,
    TrajectoriesEvolution,
};

use super::args::{self, EvolveArgs};
use super::{finite, in_file, load, print_json, ProgressView};

pub fn run(a: EvolveArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let settings = EvolveSettings {
        method: a.method.map(|m| match m {
            args::EvolveMethod::Krylov => EvolveMethod::Krylov,
            args::EvolveMethod::Rho => EvolveMethod::Rho,
            args::EvolveMethod::Trajectories => EvolveMethod::Trajectories,
        }),
        initial: a.initial.clone(),
        times: a.times.clone(),
        observe: a.observe.clone(),
        krylov_tol: a.krylov_tol,
        trajectories: a.trajectories,
        seed: a.seed,
        atol: a.atol,
        rtol: a.rtol,
        positivity: !a.no_positivity,
    };
    let world = qep::dist::world();
    let out = if world.size() > 1 {
        // The state vector split over the ranks (Schrödinger evolution only).
        in_file(file, qep::dist::evolve_krylov(&model, &settings, world)).map(Evolution::Krylov)?
    } else {
        let view = ProgressView::new();
        let out = evolve(&model, &settings, &|p| view.report(p));
        drop(view);
        in_file(file, out)?
    };
    finite(file, &out)?;
    if a.model.json {
        let (seed, provenance) = out.provenance(&settings);
        return print_json(&out, &model, seed, provenance);
    }
    match &out {
        Evolution::Rho(r) => print_rho(r, &a.observe),
        Evolution::Trajectories(r) => print_trajectories(r, &a.observe, a.seed),
        Evolution::Krylov(r) => print_krylov(r, &a.observe),
    }
    Ok(())
}

/// The density matrix's observables and purity per time.
fn print_rho(out: &RhoEvolution, labels: &[String]) {
    print!("{:>10}", "t");
    for l in labels {
        print!(" {:>14}", l);
    }
    println!(" {:>10}", "purity");
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in labels {
            print!(" {:>14.10}", out.observables[l][i]);
        }
        println!(" {:>10.6}", out.purity[i]);
    }
    println!(
        "{} qubits, {} jump operators, {} steps ({} rejected), {:.2} s",
        out.qubits, out.jumps, out.steps, out.rejected_steps, out.seconds
    );
}

/// The trajectories' means ± standard errors and purity per time.
fn print_trajectories(out: &TrajectoriesEvolution, labels: &[String], seed: u64) {
    print!("{:>10}", "t");
    for l in labels {
        print!(" {:>24}", l);
    }
    println!(" {:>10}", "purity");
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in labels {
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
        out.qubits,
        out.jump_operators,
        out.trajectories,
        seed,
        out.jumps,
        out.steps,
        out.rejected_steps,
        out.seconds
    );
}

/// The state vector's observables per time.
fn print_krylov(out: &KrylovEvolution, labels: &[String]) {
    print!("{:>10}", "t");
    for l in labels {
        print!(" {:>14}", l);
    }
    println!();
    for (i, t) in out.times.iter().enumerate() {
        print!("{t:>10}");
        for l in labels {
            print!(" {:>14.10}", out.observables[l][i]);
        }
        println!();
    }
    println!(
        "{} qubits, Schrödinger (Krylov): {} H·ψ in {} sub-steps, error estimate {:.1e}, {:.2} s",
        out.qubits, out.matvecs, out.substeps, out.error_estimate, out.seconds
    );
}
