//! The library's whole reports (`qep::session`): the object `grad_report` serialises to is
//! the one `qep grad --json` prints (without its provenance), and `run_report` trains as
//! `qep run` does, with resume, force and cancel in its own terms.

use std::path::Path;

use qep::cancel::Cancel;
use qep::ep::EpOverrides;
use qep::hamiltonian::{load, Model};
use qep::session::{grad_report, run_report, GradRequest, ReportError, RunEvent, RunRequest};
use serde_json::Value;

use crate::common::{json, model, net3_model};

fn load_model(path: &str) -> Model {
    load(Path::new(path)).unwrap()
}

/// `v` without its wall-time keys (`seconds`), which differ between two runs.
fn without_seconds(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "seconds")
                .map(|(k, x)| (k.clone(), without_seconds(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_seconds).collect()),
        x => x.clone(),
    }
}

/// `grad_report` on `file` with `request` serialises to what `qep grad FILE ARGS --json`
/// prints, key by key and bit for bit, and its seed and settings are the provenance's.
fn same_as_cli(file: &str, args: &[&str], request: impl FnOnce(GradRequest) -> GradRequest) {
    let m = load_model(file);
    let ex = m.dataset.as_ref().unwrap().train[0].clone();
    let r = grad_report(&m, &m.theta(), &request(GradRequest::new(ex)), &mut |_| {}).unwrap();
    let mut cli = json(&[&["grad", file][..], args].concat());
    let provenance = cli.as_object_mut().unwrap().remove("provenance").unwrap();
    assert_eq!(provenance["seed"], serde_json::json!(r.seed), "{file}");
    assert_eq!(provenance["settings"], r.settings, "{file}");
    let lib = serde_json::to_value(&r).unwrap();
    assert!(lib["engine"].is_string(), "{file}: {lib}");
    assert_eq!(
        without_seconds(&lib),
        without_seconds(&cli),
        "{file} {args:?}"
    );
}

#[test]
fn grad_report_is_what_qep_grad_prints_for_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    let net3 = net3_model(dir.path());
    same_as_cli(net3.to_str().unwrap(), &[], |r| r);
    same_as_cli(
        &model("xor.yaml"),
        &["--beta", "0.02", "--one-sided"],
        |r| GradRequest {
            beta: Some(0.02),
            one_sided: true,
            ..r
        },
    );
    same_as_cli(&model("xor_classical.yaml"), &[], |r| r);
    same_as_cli(&model("xor_thermal.yaml"), &["--shots", "2000"], |r| {
        GradRequest {
            shots: Some(2000),
            ..r
        }
    });
    same_as_cli(&model("xor_adiabatic.yaml"), &["--prep-times", "2"], |r| {
        GradRequest {
            prep_times: Some(vec![2.0]),
            ..r
        }
    });
}

/// The request `qep run --out DIR` makes without other flags.
fn run_request(out: &Path) -> RunRequest {
    RunRequest {
        overrides: EpOverrides {
            lanczos: Some(qep::linalg::LanczosParams {
                k: 1,
                tol: 1e-10,
                max_matvecs: 20_000,
                seed: qep::session::DEFAULT_SEED,
                ..qep::linalg::LanczosParams::default()
            }),
            ..EpOverrides::default()
        },
        epochs: Some(2),
        cosine_every: None,
        out: Some(out.to_path_buf()),
        resume: false,
        force: false,
        overwrite: false,
        fresh_remedy: "choose another folder",
    }
}

#[test]
fn run_report_trains_as_qep_run_and_reports_every_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let file = model("xor.yaml");
    let m = load_model(&file);
    let mut epochs_done = Vec::new();
    let mut last_progress = (0, 0);
    let r = run_report(
        &m,
        m.theta(),
        &run_request(&dir.path().join("lib")),
        Cancel::new(),
        &mut |e| match e {
            RunEvent::EpochDone(m) => epochs_done.push(m.epoch),
            RunEvent::Progress { done, total } => last_progress = (done, total),
            _ => {}
        },
    )
    .unwrap();
    let n = m.dataset.as_ref().unwrap().train.len() as u64;
    assert_eq!(epochs_done, vec![1, 2]);
    assert_eq!(last_progress, (2 * n, 2 * n));
    let out = dir.path().join("cli");
    let cli = json(&[
        "run",
        &file,
        "--epochs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.summary.epochs, 2);
    assert_eq!(cli["final_cost"].as_f64(), Some(r.summary.final_cost));
    assert_eq!(
        cli["train_accuracy"].as_f64(),
        Some(r.summary.train_accuracy)
    );
    let lib = r.summary_json().unwrap();
    assert_eq!(lib["provenance"]["settings"], cli["provenance"]["settings"]);
    assert_eq!(r.history.len(), 2);
    assert!(dir.path().join("lib/checkpoint.json").is_file());
    assert!(dir.path().join("lib/summary.json").is_file());
}

#[test]
fn run_report_cancelled_returns_the_last_epoch_saved() {
    let dir = tempfile::tempdir().unwrap();
    let net3 = net3_model(dir.path());
    let m = load_model(net3.to_str().unwrap());
    let out = dir.path().join("run");
    let cancel = Cancel::new();
    let stop = cancel.clone();
    let r = run_report(&m, m.theta(), &run_request(&out), cancel, &mut |e| {
        if let RunEvent::Progress { .. } = e {
            stop.cancel();
        }
    });
    match r {
        Err(ReportError::Interrupted { epoch, dir, theta }) => {
            assert_eq!(epoch, 0);
            assert_eq!(dir.as_deref(), Some(out.as_path()));
            assert_eq!(theta, m.theta());
        }
        other => panic!("expected an interrupted run, got {other:?}"),
    }
    assert!(out.join("checkpoint.json").is_file());
}

#[test]
fn run_report_resume_checks_settings_and_force_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let net3 = net3_model(dir.path());
    let m = load_model(net3.to_str().unwrap());
    let out = dir.path().join("run");
    let mut req = run_request(&out);
    req.epochs = Some(1);
    run_report(&m, m.theta(), &req, Cancel::new(), &mut |_| {}).unwrap();

    let resume = RunRequest {
        resume: true,
        epochs: Some(2),
        overrides: EpOverrides {
            beta: Some(0.05),
            ..req.overrides.clone()
        },
        ..req.clone()
    };
    let changes = match run_report(&m, m.theta(), &resume, Cancel::new(), &mut |_| {}) {
        Err(ReportError::Changed {
            checkpoint,
            changes,
        }) => {
            assert_eq!(checkpoint, out.join("checkpoint.json"));
            changes
        }
        other => panic!("expected changed settings, got {other:?}"),
    };
    assert!(
        changes.iter().any(|c| c.contains("beta")),
        "changes: {changes:?}"
    );
    let forced = RunRequest {
        force: true,
        ..resume
    };
    let r = run_report(&m, m.theta(), &forced, Cancel::new(), &mut |_| {}).unwrap();
    assert_eq!(r.summary.forced_changes, changes);
    assert_eq!(r.summary.resumed_from, Some(1));
    assert_eq!(r.summary.epochs, 2);

    let beyond = RunRequest {
        epochs: Some(1),
        ..forced
    };
    match run_report(&m, m.theta(), &beyond, Cancel::new(), &mut |_| {}) {
        Err(ReportError::BeyondEpochs { epoch, epochs, .. }) => {
            assert_eq!((epoch, epochs), (2, 1));
        }
        other => panic!("expected a checkpoint beyond the epochs, got {other:?}"),
    }
    let no_dir = RunRequest { out: None, ..req };
    let no_dir = RunRequest {
        resume: true,
        ..no_dir
    };
    assert!(matches!(
        run_report(&m, m.theta(), &no_dir, Cancel::new(), &mut |_| {}),
        Err(ReportError::ResumeWithoutDir)
    ));
}
