//! `qep run FILE`: train the network by EP (or, without a dataset, solve its free phase).
//! The library's [`run_report`] and [`free_report`] compute; this file parses the flags,
//! draws the progress bar and prints.

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use qep::ep::thermal::ThermalParams;
use qep::ep::EpOverrides;
use qep::hamiltonian::{Model, ThermalGradient};
use qep::report::default_out_dir;
use qep::report::run_dir::ParamsFile;
use qep::session::{free_report, run_report, ReportError, RunEvent, RunReport, RunRequest};

use super::args::RunArgs;
use super::grad::stage_spinner;
use super::{cooperative, in_file, lanczos_params, load, print_json, Interrupted};

pub fn run(a: RunArgs) -> Result<()> {
    let file = a.model.file.clone();
    let mut model = load(&file)?;
    if let Some(wd) = a.weight_decay {
        // The trainer validates it with the rest of the training settings.
        model
            .settings
            .training
            .get_or_insert_with(Default::default)
            .weight_decay = wd;
    }
    let theta0 = match &a.params {
        Some(p) => ParamsFile::load_theta(p, &model)?,
        None => model.theta(),
    };
    if model.dataset.as_ref().is_none_or(|d| d.train.is_empty()) {
        return free_only(&a, &model, &theta0);
    }
    let overrides = EpOverrides {
        beta: a.beta,
        shots: a.shots,
        temperature: a.temperature,
        thermal_gradient: a.thermal_gradient.as_deref().map(|e| match e {
            "covariance" => ThermalGradient::Covariance,
            "kubo-mori" => ThermalGradient::KuboMori,
            _ => ThermalGradient::Clamped,
        }),
        samples: a.samples,
        lanczos: Some(qep::linalg::LanczosParams {
            tol: a.solver.tol.min(1e-10),
            ..lanczos_params(&a.solver, 1)
        }),
        ..EpOverrides::default()
    };
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&model.name, ""));
    let request = RunRequest {
        overrides,
        epochs: a.epochs,
        cosine_every: Some(a.cosine_every),
        out: Some(out_dir),
        resume: a.resume,
        force: a.force,
        overwrite: a.overwrite,
        fresh_remedy: "--resume continues it, --overwrite replaces it, --out DIR writes elsewhere",
    };
    let mut pb: Option<ProgressBar> = None;
    let mut epochs = 0;
    let name = model.name.clone();
    let mut on_event = |e: RunEvent<'_>| match e {
        RunEvent::Started {
            start_epoch,
            epochs: n,
            examples,
            resumed,
            engine,
            dir,
            forced,
        } => {
            epochs = n;
            let dir = dir.map(|d| d.display().to_string()).unwrap_or_default();
            if resumed {
                let forced_note = if forced.is_empty() {
                    String::new()
                } else {
                    format!(" (--force: {})", forced.join("; "))
                };
                eprintln!("{name}: resuming from epoch {start_epoch} of {n} in {dir}{forced_note}");
            } else {
                eprintln!(
                    "{name}: training on {examples} examples for {n} epochs ({engine} engine), \
                     writing {dir}"
                );
            }
            let bar = ProgressBar::new((n.saturating_sub(start_epoch) * examples) as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} epoch {msg} [{elapsed} < {eta}]")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            super::steady_tick(&bar, std::time::Duration::from_millis(250));
            pb = Some(bar);
        }
        RunEvent::BetaChosen(fit) => eprintln!("{name}: β = {:.4}: {}", fit.beta, fit.reason),
        RunEvent::Epoch { epoch } => {
            if let Some(b) = &pb {
                b.set_message(format!("{epoch}/{epochs}"));
            }
        }
        RunEvent::Progress { done, .. } => {
            if let Some(b) = &pb {
                b.set_position(done);
            }
        }
        RunEvent::EpochDone(m) => {
            let line = format!(
                "epoch {:>4}  cost {:.6}  train acc {:.3}  test acc {}  |g| {:.3e}{}",
                m.epoch,
                m.train_cost,
                m.train_accuracy,
                if m.test_accuracy.is_nan() {
                    "—".to_string()
                } else {
                    format!("{:.3}", m.test_accuracy)
                },
                m.grad_norm,
                m.cosine
                    .map(|c| format!("  cos {c:.6}"))
                    .unwrap_or_default()
                    + &m.snr
                        .map(|r| format!("  SNR {r:.1}, {} shots", m.shots))
                        .unwrap_or_default()
            );
            match &pb {
                // A hidden bar (stderr not a terminal) drops println: log the epoch plainly then.
                Some(b) if !b.is_hidden() => b.println(line),
                _ => eprintln!("{line}"),
            }
        }
    };
    let report = run_report(
        &model,
        theta0.clone(),
        &request,
        cooperative(),
        &mut on_event,
    );
    if let Some(b) = pb {
        b.finish_and_clear();
    }
    let report = match report {
        Ok(r) => r,
        Err(e) => return Err(cli_error(&file, e)),
    };
    if report.already_complete {
        return already_complete(&a, &model, &report);
    }
    let summary = &report.summary;
    if a.model.json {
        println!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(());
    }
    println!(
        "{}: {} epochs, final cost {:.6}, train accuracy {:.3}, test accuracy {}, {:.1} s",
        summary.model,
        summary.epochs,
        summary.final_cost,
        summary.train_accuracy,
        summary
            .test_accuracy
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "—".into()),
        summary.wall_seconds
    );
    if let Some(e) = summary.resumed_from {
        println!("resumed from epoch {e}");
    }
    if !summary.forced_changes.is_empty() {
        println!(
            "resumed with --force despite changed settings: {}",
            summary.forced_changes.join("; ")
        );
    }
    if let Some(t) = &report.params.thermal {
        println!("{}", thermal_line(t, report.params.ep.beta, model.qubits));
    }
    println!(
        "wrote {}/{{metrics.csv, params.json, summary.json, training.svg, training.png, checkpoint.json}}",
        dir_name(&report)
    );
    print_closing(
        &file,
        &model,
        &theta0,
        &report,
        summary.resumed_from.is_some(),
    );
    Ok(())
}

/// The closing summary of a training run: accuracy before → after, the time, where the files
/// are and how to look at them or go on. "Before" is the free phase of the initial parameters
/// (not shown for a resumed run, whose start is the checkpoint).
fn print_closing(
    file: &std::path::Path,
    model: &Model,
    theta0: &[f64],
    report: &RunReport,
    resumed: bool,
) {
    let s = &report.summary;
    let dir = dir_name(report);
    let ds = model.dataset.as_ref();
    let before = |ex: Option<&Vec<qep::hamiltonian::Example>>| {
        ex.filter(|e| !e.is_empty() && !resumed)
            .and_then(|e| qep::ep::evaluate(model, theta0, e, &report.params.ep).ok())
    };
    let arrow = |b: Option<(f64, f64)>, after: f64| match b {
        Some((_, acc)) => format!("{acc:.3} → {after:.3}"),
        None => format!("{after:.3}"),
    };
    let train = arrow(before(ds.map(|d| &d.train)), s.train_accuracy);
    let test = match s.test_accuracy {
        Some(t) => format!(", test accuracy {}", arrow(before(ds.map(|d| &d.test)), t)),
        None => String::new(),
    };
    println!();
    println!(
        "summary: train accuracy {train}{test} in {} epochs, {:.1} s",
        s.epochs, s.wall_seconds
    );
    println!("  curves: {dir}/training.png (and .svg); numbers per epoch in {dir}/metrics.csv");
    println!(
        "  more epochs: qep run {} --out {dir} --resume --epochs N (N > {})",
        file.display(),
        s.epochs
    );
}

/// The run folder as printed.
fn dir_name(r: &RunReport) -> String {
    r.dir
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_default()
}

/// A library error in the words of the flags (`--resume`, `--force`, `--epochs`).
fn cli_error(file: &std::path::Path, e: ReportError) -> anyhow::Error {
    match e {
        ReportError::Interrupted { epoch, dir, .. } => Interrupted(format!(
            "interrupted at epoch {epoch}; checkpoint saved in {}; resume with --resume",
            dir.map(|d| d.display().to_string()).unwrap_or_default()
        ))
        .into(),
        ReportError::Changed {
            checkpoint,
            changes,
        } => anyhow::anyhow!(
            "{}: made with other settings: {}; expected the model and flags of the \
             checkpointed run (--resume --force continues with the new ones)",
            checkpoint.display(),
            changes.join("; ")
        ),
        ReportError::BeyondEpochs {
            checkpoint,
            epoch,
            epochs,
        } => anyhow::anyhow!(
            "{}: the checkpoint is at epoch {epoch}, beyond --epochs {epochs}; expected --epochs \
             {epoch} or more",
            checkpoint.display()
        ),
        // The run folder's own errors name their files.
        ReportError::Lib(e) if matches!(*e, qep::Error::Report(_)) => (*e).into(),
        e @ (ReportError::NoCheckpoint { .. } | ReportError::ResumeWithoutDir) => e.into(),
        e => match in_file(file, Err::<(), _>(e)) {
            Err(e) => e,
            Ok(()) => anyhow::anyhow!("{}: failed", file.display()),
        },
    }
}

/// `--resume` on a run that has done all its epochs: says so and trains nothing. The JSON is
/// the folder's `summary.json` (written when the run finished), or one made from the
/// checkpoint if the run stopped between its last epoch and its summary.
fn already_complete(a: &RunArgs, model: &Model, report: &RunReport) -> Result<()> {
    let built = &report.summary;
    if a.model.json {
        eprintln!(
            "{}: already complete ({} epochs) in {}; nothing to do",
            model.name,
            built.epochs,
            dir_name(report)
        );
        let v = report.summary_json()?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{}: already complete ({} epochs), final cost {:.6}, train accuracy {:.3}, test accuracy {}",
        built.model,
        built.epochs,
        built.final_cost,
        built.train_accuracy,
        built
            .test_accuracy
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "—".into()),
    );
    Ok(())
}

/// The human line naming the thermal settings of a run.
fn thermal_line(t: &ThermalParams, beta: f64, qubits: usize) -> String {
    let est = match t.estimator {
        ThermalGradient::Clamped => format!("clamped (β = {beta})"),
        ThermalGradient::Covariance => "covariance (Eq. 43)".into(),
        ThermalGradient::KuboMori => "kubo-mori (exact)".into(),
    };
    let method = match t.resolve(qubits) {
        Ok(qep::ep::thermal::ThermalMethod::Typicality) => {
            format!("typicality, {} random vectors", t.typicality.samples)
        }
        _ => "dense Gibbs state".into(),
    };
    format!(
        "thermal: Gibbs state at T = {}, gradient estimator {est}, {method}",
        t.temperature
    )
}

/// A model without a dataset: the free phase of its first example (or of no inputs).
fn free_only(a: &RunArgs, model: &Model, theta: &[f64]) -> Result<()> {
    let file = &a.model.file;
    let params = lanczos_params(&a.solver, 1);
    let out = in_file(
        file,
        free_report(model, theta, &params, &mut stage_spinner()),
    )?;
    if a.model.json {
        return print_json(
            &out,
            model,
            Some(model.seed),
            serde_json::to_value(&params)?,
        );
    }
    let f = &out.free;
    println!(
        "{}: {} qubits, {} parameters (no dataset: free phase only)",
        out.model,
        out.qubits,
        model.params.len()
    );
    let levels: Vec<String> = f.energies.iter().map(|e| format!("{e:.10}")).collect();
    println!("energies    {}", levels.join(", "));
    println!(
        "state       level {} at E = {:.10} (residual {:.1e}, gap {})",
        f.level,
        f.energy,
        f.residual,
        f.gap
            .map(|g| format!("{g:.4e}"))
            .unwrap_or_else(|| "n/a".into())
    );
    for (q, z) in f.outputs.iter().zip(&f.z_outputs) {
        println!("output      ⟨Z{q}⟩ = {z:+.8}");
    }
    Ok(())
}
