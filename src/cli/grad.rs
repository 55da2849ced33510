//! `qep grad FILE [--example I | --inputs … --targets …] [--beta B] [--one-sided] [--eigen K]`,
//! and with `--temperature T` the thermal gradients (dense comparison, typicality above 12
//! qubits, Eq. 43 from shots with `--shots S`). Every model is differentiated by the engine
//! `qep run` trains it with (`engine` in the JSON): a `kind: classical` model by the classical
//! network, with implicit differentiation (Eq. 49) as its oracle. The library's
//! [`grad_report`] computes; this file parses the flags and prints.

use anyhow::{bail, Result};
use indicatif::ProgressBar;

use qep::ep::compare;
use qep::ep::thermal::ThermalStep;
use qep::hamiltonian::{Example, Model};
use qep::operator::DENSE_MAX_QUBITS;
use qep::session::{
    grad_report, ClassicalReport, ClassicalThermalReport, EigenReport, GradOutput, GradRequest,
    ReportError, ThermalReport, TypicalReport,
};

use super::args::GradArgs;
use super::{in_file, lanczos_params, load, print_json, spinner};

/// The example named by the flags: explicit `--inputs/--targets`, `--example I`, or the
/// dataset's first.
fn example(a: &GradArgs, model: &Model) -> Result<Example> {
    let file = a.model.file.display();
    if let Some(targets) = &a.targets {
        let inputs = a.inputs.clone().unwrap_or_default();
        check_count(&file, "--inputs", inputs.len(), "input", &model.inputs)?;
        check_count(&file, "--targets", targets.len(), "output", &model.outputs)?;
        return Ok(Example {
            inputs,
            targets: targets.clone(),
        });
    }
    let Some(d) = &model.dataset else {
        bail!(
            "{file}: the model has no dataset; give the example with --inputs=U1,… --targets=D1,…"
        );
    };
    let i = a.example.unwrap_or(0);
    match d.train.get(i) {
        Some(ex) => Ok(ex.clone()),
        None => bail!(
            "{file}: --example {i} does not exist; expected 0..{} (training examples)",
            d.train.len()
        ),
    }
}

/// Refuses a `flag` that gives `given` values for a model with one `what` per site of `sites`.
fn check_count(
    file: &impl std::fmt::Display,
    flag: &str,
    given: usize,
    what: &str,
    sites: &[usize],
) -> Result<()> {
    if given != sites.len() {
        bail!(
            "{file}: {flag} has {given} values; expected {}, one per model {what} {sites:?}",
            sites.len()
        );
    }
    Ok(())
}

/// A stage callback for the library that draws a spinner while a long stage runs.
pub(super) fn stage_spinner() -> impl FnMut(Option<&str>) {
    let mut pb: Option<ProgressBar> = None;
    move |stage| match (stage, &pb) {
        (Some(m), Some(p)) => p.set_message(m.to_string()),
        (Some(m), None) => pb = Some(spinner(m.to_string())),
        (None, _) => {
            if let Some(p) = pb.take() {
                p.finish_and_clear();
            }
        }
    }
}

pub fn run(a: GradArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let ex = example(&a, &model)?;
    let theta = match &a.params {
        Some(p) => qep::report::run_dir::ParamsFile::load_theta(p, &model)?,
        None => model.theta(),
    };
    let request = GradRequest {
        beta: a.beta,
        one_sided: a.one_sided,
        level: a.eigen,
        shots: a.shots,
        seed: a.solver.seed,
        temperature: a.temperature,
        samples: a.samples,
        no_warm_start: a.no_warm_start,
        exact: !a.no_exact,
        lanczos: lanczos_params(&a.solver, 1),
        prep_times: a.prep_times.clone(),
        prep_steps: a.prep_steps,
        ..GradRequest::new(ex)
    };
    let report =
        qep::dist::splitting_states(|| grad_report(&model, &theta, &request, &mut stage_spinner()));
    let report = match report {
        Err(ReportError::ShotsNeedDense { qubits, max }) => bail!(
            "{}: {qubits} qubits: shots of the Gibbs state need its dense diagonal (≤ {max} \
             qubits); drop --shots",
            file.display()
        ),
        r => in_file(file, r)?,
    };
    if a.model.json {
        return print_json(&report, &model, report.seed, report.settings.clone());
    }
    match &report.output {
        GradOutput::Eigen(out) => print_eigen(&model, out),
        GradOutput::Thermal(out) => print_thermal(&model, out),
        GradOutput::Typical(out) => print_typical(&model, out),
        GradOutput::ClassicalThermal(out) => print_classical_thermal(&model, out),
        GradOutput::Classical(out) => print_classical(&model, out),
    }
    Ok(())
}

/// The table of EP on eigenstates against its oracle, and of EP on prepared states.
fn print_eigen(model: &Model, out: &EigenReport) {
    let e = &out.ep;
    if let Some(fit) = &out.shot_aware {
        println!("β = {:.4}: {}", fit.beta, fit.reason);
    }
    println!(
        "{} ({} engine): level {} at E = {:.10}, gap {}, ⟨C⟩ = {:.8}, β = {}{}",
        model.name,
        out.engine,
        e.level,
        e.energy,
        e.gap
            .map(|g| format!("{g:.3e}"))
            .unwrap_or_else(|| "n/a".into()),
        e.cost,
        e.beta,
        if e.one_sided { " (one-sided)" } else { "" }
    );
    let shots = e.ep_std.is_some();
    println!(
        "{:<16} {:>16} {:>12} {:>16}",
        "param",
        "EP",
        if shots { "std err" } else { "" },
        "exact"
    );
    for (i, label) in e.params.iter().enumerate() {
        let ex = out
            .exact
            .as_ref()
            .and_then(|x| x.get(i))
            .map(|x| format!("{x:>16.9e}"))
            .unwrap_or_default();
        let sd = match e.ep_std.as_ref().and_then(|s| s.get(i)) {
            Some(s) => format!("{s:>12.3e}"),
            None => format!("{:>12}", ""),
        };
        let g = e.ep.get(i).copied().unwrap_or(f64::NAN);
        println!("{:<16} {:>16.9e} {sd} {ex}", label, g);
    }
    if let Some(t) = e.shots_total {
        println!("shots spent on this gradient: {t}");
    }
    if let (Some(c), Some(r)) = (out.cosine, out.relative_error) {
        println!("cosine similarity {c:.9}, relative error {r:.3e}");
    }
    if let Some(runs) = &out.prepared {
        println!("EP on adiabatically prepared states (vs EP on exact eigenstates):");
        println!(
            "{:>8} {:>14} {:>14} {:>14} {:>12} {:>12}",
            "T", "F free", "F +β", "F −β", "cosine", "rel. error"
        );
        for g in runs {
            println!(
                "{:>8} {:>14.10} {:>14.10} {:>14.10} {:>12.9} {:>12.3e}",
                g.time,
                g.fidelities[0],
                g.fidelities[1],
                g.fidelities[2],
                g.cosine,
                g.relative_error
            );
        }
    }
}

/// The four dense thermal gradients side by side, with the shot estimate when there is one.
fn print_thermal(model: &Model, out: &ThermalReport) {
    let g = &out.gradients;
    let (t, beta) = (g.temperature, g.beta);
    println!(
        "{}: T = {t}, β = {beta}, ⟨C⟩_T = {:.8}, F = {:.8}",
        model.name, g.cost, g.free_energy
    );
    let shot_cols = out.shot_estimate.is_some();
    println!(
        "{:<14} {:>14} {:>14} {:>14} {:>14}{}",
        "param",
        "exact",
        "clamped",
        "covariance",
        "kubo-mori",
        if shot_cols {
            format!(" {:>14} {:>10}", "cov (shots)", "std err")
        } else {
            String::new()
        }
    );
    for (i, p) in g.params.iter().enumerate() {
        let shot = match &out.shot_estimate {
            Some(s) => match (s.covariance[i], s.std_err[i]) {
                (Some(c), Some(e)) => format!(" {c:>14.6e} {e:>10.2e}"),
                _ => format!(" {:>14} {:>10}", "(X/Y: n/a)", ""),
            },
            None => String::new(),
        };
        println!(
            "{:<14} {:>14.6e} {:>14.6e} {:>14.6e} {:>14.6e}{shot}",
            p, g.exact[i], g.clamped[i], g.covariance[i], g.kubo_mori[i]
        );
    }
    for (name, v) in [
        ("clamped", &g.clamped),
        ("covariance", &g.covariance),
        ("kubo-mori", &g.kubo_mori),
    ] {
        let (c, r) = compare(v, &g.exact);
        println!("{name:<11} vs exact: cosine {c:.6}, relative error {r:.3e}");
    }
    if let Some(s) = &out.shot_estimate {
        println!(
            "shots: {} Z-basis shots of the free Gibbs state (seed {}), ⟨C⟩_T = {:.6} ± {:.1e}; \
             X/Y-type parameters need ⟨{{P_k, C}}⟩ of non-commuting operators, not a one-basis \
             observable",
            s.shots, s.seed, s.cost, s.cost_std
        );
    }
}

/// The typicality estimates above the dense limit, with their standard errors.
fn print_typical(model: &Model, out: &TypicalReport) {
    println!(
        "{}: {} qubits, T = {}, β = {}: typicality with {} random vectors (seed {}), {:.1} s",
        model.name,
        model.qubits,
        out.temperature,
        out.beta,
        out.typicality.samples,
        out.typicality.seed,
        out.seconds
    );
    println!(
        "{:<14} {:>14} {:>10} {:>14} {:>10}",
        "param", "clamped", "std err", "covariance", "std err"
    );
    let sd = |s: &ThermalStep, i: usize| s.std_err.as_ref().map_or(f64::NAN, |v| v[i]);
    for (i, name) in out.params.iter().enumerate() {
        println!(
            "{:<14} {:>14.6e} {:>10.2e} {:>14.6e} {:>10.2e}",
            name,
            out.clamped.gradient[i],
            sd(&out.clamped, i),
            out.covariance.gradient[i],
            sd(&out.covariance, i)
        );
    }
    println!(
        "(Kubo–Mori and the exact oracle need the dense Gibbs state, ≤ {DENSE_MAX_QUBITS} qubits)"
    );
}

/// The Langevin estimates of a classical network beside the low-temperature expansion.
fn print_classical_thermal(model: &Model, out: &ClassicalThermalReport) {
    let (t, beta) = (out.temperature, out.beta);
    println!(
        "{} (classical): T = {t}, β = {beta}, ⟨C⟩ = {:.6} ± {:.1e} (low-T {:.6}); {} chains × {} samples",
        model.name, out.cost, out.cost_std, out.cost_low_temperature, out.chains, out.samples_per_chain
    );
    println!(
        "{:<14} {:>22} {:>22} {:>14} {:>14}",
        "param", "clamped (Eq. 42)", "covariance (Eq. 43)", "low-T (Eq. 50)", "T = 0"
    );
    for (i, l) in out.params.iter().enumerate() {
        println!(
            "{:<14} {:>13.6e} ± {:<6.1e} {:>13.6e} ± {:<6.1e} {:>14.6e} {:>14.6e}",
            l,
            out.clamped[i],
            out.clamped_std[i],
            out.covariance[i],
            out.covariance_std[i],
            out.low_temperature[i],
            out.zero_temperature[i]
        );
    }
}

/// The classical network's EP gradient against implicit differentiation.
fn print_classical(model: &Model, out: &ClassicalReport) {
    println!(
        "{} (classical engine): C = {:.8}, β = {}{}",
        model.name,
        out.cost,
        out.beta,
        if out.one_sided { " (one-sided)" } else { "" }
    );
    println!("{:<16} {:>16} {:>16}", "param", "EP", "exact (Eq. 49)");
    for (i, label) in out.params.iter().enumerate() {
        let x = out
            .exact
            .as_ref()
            .map(|x| format!("{:>16.9e}", x[i]))
            .unwrap_or_default();
        println!("{:<16} {:>16.9e} {x}", label, out.ep[i]);
    }
    if let (Some(c), Some(r)) = (out.cosine, out.relative_error) {
        println!("cosine similarity {c:.9}, relative error {r:.3e}");
    }
}
