//! `qep grad FILE [--example I | --inputs … --targets …] [--beta B] [--one-sided] [--eigen K]`,
//! and with `--temperature T` the thermal gradients (dense comparison, typicality above 12
//! qubits, Eq. 43 from shots with `--shots S`). Every model is differentiated by the engine
//! `qep run` trains it with (`engine` in the JSON): a `kind: classical` model by the classical
//! network, with implicit differentiation (Eq. 49) as its oracle.

use anyhow::{bail, Result};
use serde::Serialize;

use qep::ep::classical::{ClassicalParams, Relaxed};
use qep::ep::langevin::{LangevinParams, ThermalNet};
use qep::ep::lowtemp::low_temperature;
use qep::ep::prepared::{ep_gradient_prepared, PreparedGradient};
use qep::ep::thermal::{
    covariance_from_shots, thermal_gradient, thermal_gradients, ShotCovariance, ThermalGradients,
    ThermalMethod, ThermalParams, ThermalStep,
};
use qep::ep::typicality::TypicalityParams;
use qep::ep::{
    compare, gradient_memory, Engine, EpGradient, EpOverrides, EpParams, ExactGradient,
    GradientDetails,
};
use qep::hamiltonian::{Adiabatic, Example, Model, Preparation, ThermalGradient};
use qep::operator::DENSE_MAX_QUBITS;
use qep::state::MemoryPlan;

use super::args::GradArgs;
use super::{finite, in_file, lanczos_params, load, print_json, spinner};

/// The JSON of `qep grad`.
#[derive(Serialize)]
struct GradOut {
    /// The engine `qep run` trains this model with.
    engine: &'static str,
    example: Example,
    #[serde(flatten)]
    ep: EpGradient,
    /// The oracle's values, in `params` order.
    exact: Option<Vec<f64>>,
    oracle: Option<ExactGradient>,
    cosine: Option<f64>,
    relative_error: Option<f64>,
    /// EP on adiabatically prepared states, one entry per sweep time.
    #[serde(skip_serializing_if = "Option::is_none")]
    prepared: Option<Vec<PreparedGradient>>,
}

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

pub fn run(a: GradArgs) -> Result<()> {
    let file = &a.model.file;
    let model = load(file)?;
    let ex = example(&a, &model)?;
    let has_temperature = a.temperature.or(model.settings.temperature).is_some();
    let overrides = EpOverrides {
        beta: a.beta,
        one_sided: a.one_sided,
        level: a.eigen,
        shots: a.shots,
        seed: Some(a.solver.seed),
        temperature: a.temperature,
        samples: has_temperature.then_some(a.samples),
        no_warm_start: a.no_warm_start,
        exact: !a.no_exact,
        lanczos: Some(lanczos_params(&a.solver, 1)),
        ..EpOverrides::default()
    };
    let params = in_file(file, EpParams::from_model(&model, &overrides))?;
    let theta = match &a.params {
        Some(p) => qep::report::run_dir::ParamsFile::load_theta(p, &model)?,
        None => model.theta(),
    };
    let engine = in_file(file, Engine::for_model(&model, &params))?;
    match (&engine, &params.thermal) {
        (Engine::Classical(_), Some(t)) => {
            return classical_thermal(&a, &model, &theta, &ex, t.temperature, params.beta)
        }
        (Engine::Classical(_), None) => {
            return classical(&a, &model, &engine, &theta, &ex, &params)
        }
        (Engine::Thermal(t), _) if model.qubits > DENSE_MAX_QUBITS => {
            return thermal_typical(&a, &model, &theta, &ex, t, params.beta)
        }
        (Engine::Thermal(t), _) => {
            return thermal(
                &a,
                &model,
                &theta,
                &ex,
                t.temperature,
                params.beta,
                params.shots,
            )
        }
        (Engine::Eigen | Engine::Prepared(_), _) => {}
    }
    let mut plan = MemoryPlan::new("qep grad");
    plan.extend(&gradient_memory(model.qubits, &params, params.exact));
    in_file(file, plan.check())?;
    let pb =
        (model.qubits >= 16).then(|| spinner(format!("EP gradient on {} qubits", model.qubits)));
    // The prepared engine's estimate is reported per sweep time in `prepared`, beside the
    // estimate on exact eigenstates it is compared with.
    let g = Engine::Eigen.gradient(&model, &theta, &ex, &params);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let g = in_file(file, g)?;
    let GradientDetails::Eigen { ep, oracle } = g.details else {
        bail!(
            "{}: the eigen engine returned another engine's evidence",
            file.display()
        );
    };
    let (cosine, relative_error) = match &oracle {
        Some(o) => {
            let (c, r) = compare(&ep.ep, &o.exact);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let prepared = prepared_runs(&a, &model, &theta, &ex, &params, &ep.ep)?;
    let out = GradOut {
        engine: engine.name(),
        example: ex,
        exact: oracle.as_ref().map(|o| o.exact.clone()),
        oracle,
        cosine,
        relative_error,
        ep,
        prepared,
    };
    finite(file, &out)?;
    if a.model.json {
        return print_json(
            &out,
            &model,
            Some(params.lanczos.seed),
            serde_json::to_value(&params)?,
        );
    }
    let e = &out.ep;
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
            .map(|x| format!("{:>16.9e}", x[i]))
            .unwrap_or_default();
        let sd = match &e.ep_std {
            Some(s) => format!("{:>12.3e}", s[i]),
            None => format!("{:>12}", ""),
        };
        println!("{:<16} {:>16.9e} {sd} {ex}", label, e.ep[i]);
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
    Ok(())
}

/// EP gradients on prepared states for each `--prep-times` T (or the model's adiabatic time),
/// compared with the exact-state EP gradient `reference`.
fn prepared_runs(
    a: &GradArgs,
    model: &Model,
    theta: &[f64],
    ex: &Example,
    params: &EpParams,
    reference: &[f64],
) -> Result<Option<Vec<PreparedGradient>>> {
    let from_model = match &model.settings.preparation {
        Preparation::Adiabatic(ad) => Some(ad),
        _ => None,
    };
    let times = match (&a.prep_times, from_model) {
        (Some(t), _) => t.clone(),
        (None, Some(ad)) => vec![ad.time],
        (None, None) => return Ok(None),
    };
    let pb = spinner(format!(
        "EP on prepared states, {} sweep times",
        times.len()
    ));
    let mut out = Vec::with_capacity(times.len());
    for &t in &times {
        let ad = Adiabatic {
            time: t,
            steps: a
                .prep_steps
                .or(from_model.map(|m| m.steps))
                .unwrap_or_else(|| 100usize.max((5.0 * t).ceil() as usize)),
            schedule: from_model.map(|m| m.schedule).unwrap_or_default(),
            table: from_model.and_then(|m| m.table.clone()),
        };
        pb.set_message(format!("EP on states prepared in T = {t}"));
        let mut g = in_file(
            &a.model.file,
            ep_gradient_prepared(model, theta, ex, params, &ad, false),
        )?;
        let (c, r) = compare(&g.ep, reference);
        g.exact_state_ep = reference.to_vec();
        g.cosine = c;
        g.relative_error = r;
        out.push(g);
    }
    pb.finish_and_clear();
    Ok(Some(out))
}

/// The JSON of `qep grad --temperature T` (dense).
#[derive(Serialize)]
struct ThermalOut {
    /// The engine `qep run` trains this model with.
    engine: &'static str,
    #[serde(flatten)]
    gradients: ThermalGradients,
    /// Eq. 43 from Z-basis shots: one entry per parameter, null if not Z-type.
    #[serde(skip_serializing_if = "Option::is_none")]
    covariance_shots: Option<Vec<Option<f64>>>,
    /// Standard errors of `covariance_shots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    covariance_shots_std: Option<Vec<Option<f64>>>,
    /// The shot estimate with its cost, shots and seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    shot_estimate: Option<ShotCovariance>,
}

/// `qep grad --temperature T` (≤ 12 qubits): the four thermal gradients side by side, and
/// with shots the covariance of Eq. 43 from Z-basis shots.
fn thermal(
    a: &GradArgs,
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: f64,
    beta: f64,
    shots: Option<u64>,
) -> Result<()> {
    let g = in_file(&a.model.file, thermal_gradients(model, theta, ex, t, beta))?;
    let seed = a.solver.seed;
    let sc = shots
        .map(|s| {
            in_file(
                &a.model.file,
                covariance_from_shots(model, theta, ex, t, s, seed),
            )
        })
        .transpose()?;
    let out = ThermalOut {
        engine: "thermal",
        gradients: g,
        covariance_shots: sc.as_ref().map(|s| s.covariance.clone()),
        covariance_shots_std: sc.as_ref().map(|s| s.std_err.clone()),
        shot_estimate: sc,
    };
    if a.model.json {
        return print_json(
            &out,
            model,
            shots.map(|_| seed),
            serde_json::json!({"temperature": t, "beta": beta, "shots": shots}),
        );
    }
    let g = &out.gradients;
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
    Ok(())
}

/// The JSON of `qep grad --temperature T` above 12 qubits.
#[derive(Serialize)]
struct TypicalOut {
    /// The engine `qep run` trains this model with.
    engine: &'static str,
    params: Vec<String>,
    temperature: f64,
    beta: f64,
    clamped: ThermalStep,
    covariance: ThermalStep,
    typicality: TypicalityParams,
    seconds: f64,
}

/// `qep grad --temperature T` above 12 qubits: clamped and covariance estimates by typicality,
/// with jackknife standard errors (Kubo–Mori and the finite-difference oracle need the dense
/// Gibbs state).
fn thermal_typical(
    a: &GradArgs,
    model: &Model,
    theta: &[f64],
    ex: &Example,
    thermal: &ThermalParams,
    beta: f64,
) -> Result<()> {
    let t = thermal.temperature;
    if a.shots.is_some() {
        anyhow::bail!(
            "{}: {} qubits: shots of the Gibbs state need its dense diagonal (≤ {DENSE_MAX_QUBITS} \
             qubits); drop --shots",
            a.model.file.display(),
            model.qubits
        );
    }
    let t0 = std::time::Instant::now();
    let pb = spinner(format!(
        "thermal gradients by typicality on {} qubits, {} random vectors",
        model.qubits, a.samples
    ));
    let mut p = ThermalParams {
        estimator: ThermalGradient::Clamped,
        method: ThermalMethod::Typicality,
        ..thermal.clone()
    };
    let clamped = thermal_gradient(model, theta, ex, &p, beta);
    p.estimator = ThermalGradient::Covariance;
    let covariance = thermal_gradient(model, theta, ex, &p, beta);
    pb.finish_and_clear();
    let out = TypicalOut {
        engine: "thermal",
        params: model.params.iter().map(|p| p.label.clone()).collect(),
        temperature: t,
        beta,
        clamped: in_file(&a.model.file, clamped)?,
        covariance: in_file(&a.model.file, covariance)?,
        typicality: p.typicality.clone(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    if a.model.json {
        return print_json(
            &out,
            model,
            Some(p.typicality.seed),
            serde_json::json!({"temperature": t, "beta": beta, "typicality": p.typicality}),
        );
    }
    println!(
        "{}: {} qubits, T = {t}, β = {beta}: typicality with {} random vectors (seed {}), {:.1} s",
        model.name, model.qubits, a.samples, p.typicality.seed, out.seconds
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
    Ok(())
}

/// The JSON of `qep grad --temperature T` on a classical model (Section IV's limit case).
#[derive(Serialize)]
struct ClassicalThermalOut {
    /// The engine `qep run` trains this model with.
    engine: &'static str,
    params: Vec<String>,
    temperature: f64,
    beta: f64,
    /// Eq. 42 from Langevin samples of the clamped Boltzmann distributions.
    clamped: Vec<f64>,
    clamped_std: Vec<f64>,
    /// Eq. 43, `−(1/T) Cov[∂f/∂θ_k, C]`, from the free samples.
    covariance: Vec<f64>,
    covariance_std: Vec<f64>,
    /// Eq. 47/50: the low-temperature expansion to first order in T.
    low_temperature: Vec<f64>,
    /// The T = 0 gradient (implicit differentiation, Eq. 49).
    zero_temperature: Vec<f64>,
    cost: f64,
    cost_std: f64,
    cost_low_temperature: f64,
    samples_per_chain: usize,
    chains: usize,
}

/// `qep grad --temperature T` on a `kind: classical` model: Langevin sampling of Eq. 30 by
/// Eq. 33 (clamped and covariance estimates with standard errors) beside the low-temperature
/// expansion and the T = 0 gradient.
fn classical_thermal(
    a: &GradArgs,
    model: &Model,
    theta: &[f64],
    ex: &Example,
    t: f64,
    beta: f64,
) -> Result<()> {
    let file = &a.model.file;
    let net = in_file(file, ThermalNet::new(model, ClassicalParams::default()))?;
    let lp = LangevinParams {
        temperature: t,
        seed: a.solver.seed,
        ..LangevinParams::default()
    };
    let pb = spinner(format!("Langevin sampling at T = {t}"));
    let g = in_file(file, net.thermal_gradient(theta, ex, beta, &lp));
    pb.finish_and_clear();
    let g = g?;
    let low = in_file(file, low_temperature(&net, theta, ex, beta))?;
    let out = ClassicalThermalOut {
        engine: "classical",
        params: g.params.clone(),
        temperature: t,
        beta,
        clamped: g.clamped.iter().map(|e| e.mean).collect(),
        clamped_std: g.clamped.iter().map(|e| e.std_error).collect(),
        covariance: g.covariance.iter().map(|e| e.mean).collect(),
        covariance_std: g.covariance.iter().map(|e| e.std_error).collect(),
        low_temperature: low.gradient_at(t),
        zero_temperature: low.gradient.clone(),
        cost: g.cost.mean,
        cost_std: g.cost.std_error,
        cost_low_temperature: low.cost_at(t),
        samples_per_chain: lp.samples,
        chains: lp.chains,
    };
    if a.model.json {
        return print_json(
            &out,
            model,
            Some(lp.seed),
            serde_json::json!({"temperature": t, "beta": beta, "langevin": lp}),
        );
    }
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
    Ok(())
}

/// The JSON of `qep grad` on a `kind: classical` model (Section II): the EP estimate of the
/// relaxed network (Eq. 14) and its oracle, implicit differentiation at the free minimum
/// (Eq. 49).
#[derive(Serialize)]
struct ClassicalOut {
    /// `classical`.
    engine: &'static str,
    example: Example,
    params: Vec<String>,
    /// The EP estimates, in `params` order.
    ep: Vec<f64>,
    /// Implicit differentiation (Eq. 49), in `params` order.
    exact: Option<Vec<f64>>,
    cosine: Option<f64>,
    relative_error: Option<f64>,
    beta: f64,
    one_sided: bool,
    /// Free-phase cost `C(z̄)`.
    cost: f64,
    /// Free-phase `z̄` on the outputs.
    z_outputs: Vec<f64>,
    /// `‖∂f/∂z‖` of the free and clamped minima.
    residuals: Vec<f64>,
    /// The free phase.
    free: Relaxed,
    /// The clamped phases: `+β`, then `−β` unless one-sided.
    clamped: Vec<Relaxed>,
    /// Relative residual of the oracle's adjoint solve.
    oracle_residual: Option<f64>,
    seconds: f64,
}

/// `qep grad` on a `kind: classical` model: the classical network's EP gradient and its
/// oracle, the engine `qep run` trains it with.
fn classical(
    a: &GradArgs,
    model: &Model,
    engine: &Engine,
    theta: &[f64],
    ex: &Example,
    params: &EpParams,
) -> Result<()> {
    let file = &a.model.file;
    let g = in_file(file, engine.gradient(model, theta, ex, params))?;
    let GradientDetails::Classical { ep, oracle } = g.details else {
        bail!(
            "{}: the classical engine returned another engine's evidence",
            file.display()
        );
    };
    let (cosine, relative_error) = match &g.exact {
        Some(x) => {
            let (c, r) = compare(&g.ep, x);
            (Some(c), Some(r))
        }
        None => (None, None),
    };
    let out = ClassicalOut {
        engine: g.engine,
        example: ex.clone(),
        params: g.params,
        ep: g.ep,
        exact: g.exact,
        cosine,
        relative_error,
        beta: ep.beta,
        one_sided: ep.one_sided,
        cost: ep.cost,
        z_outputs: ep.z_outputs,
        residuals: g.residuals,
        free: ep.free,
        clamped: ep.clamped,
        oracle_residual: oracle.map(|o| o.residual),
        seconds: g.seconds,
    };
    finite(file, &out)?;
    if a.model.json {
        return print_json(
            &out,
            model,
            None,
            serde_json::json!({"beta": params.beta, "one_sided": params.one_sided,
                               "classical": ClassicalParams::default()}),
        );
    }
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
    Ok(())
}
