//! Runs and their files: checkpoints that read back what was written, resume that refuses
//! another run's checkpoint, output folders a model's name cannot steer, atomic result files,
//! bounded exports, Ctrl-C that stops at a safe point, and no silent overwrites.

use std::path::{Path, PathBuf};

use serde_json::Value;

use qep::ep::{Checkpoint, EpochMetrics, OptimizerState, RunStamp, TrainParams};
use qep::report::run_dir::RunDir;

use crate::common::{fails, interrupt_when, json, json_of, model, qep};

/// The checkpoint in a run folder.
fn checkpoint(dir: &Path) -> Checkpoint {
    RunDir::create(dir)
        .unwrap()
        .checkpoint()
        .unwrap()
        .expect("checkpoint.json exists")
}

/// Equal to the last bit, NaN equal to NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn same_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => same(x, y),
        (None, None) => true,
        _ => false,
    }
}

/// Two runs' checkpoints hold the same parameters, optimiser state and metrics to the last
/// bit (wall times aside).
fn assert_same_run(name: &str, a: &Checkpoint, b: &Checkpoint) {
    assert_eq!(a.epoch, b.epoch, "{name}");
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.theta), bits(&b.theta), "{name}: θ");
    assert_eq!(a.optimizer.step, b.optimizer.step, "{name}");
    assert_eq!(bits(&a.optimizer.m), bits(&b.optimizer.m), "{name}: m");
    assert_eq!(bits(&a.optimizer.v), bits(&b.optimizer.v), "{name}: v");
    assert_eq!(a.history.len(), b.history.len(), "{name}");
    for (x, y) in a.history.iter().zip(&b.history) {
        let ok = x.epoch == y.epoch
            && same(x.train_cost, y.train_cost)
            && same(x.train_accuracy, y.train_accuracy)
            && same(x.test_cost, y.test_cost)
            && same(x.test_accuracy, y.test_accuracy)
            && same(x.grad_norm, y.grad_norm)
            && same(x.learning_rate, y.learning_rate)
            && same_opt(x.cosine, y.cosine)
            && x.shots == y.shots
            && same_opt(x.snr, y.snr);
        assert!(ok, "{name}: epoch {} differs:\n{x:?}\n{y:?}", x.epoch);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A shipped model copied into `dir` (so that the test may edit it).
fn copy_model(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(model(name), &p).unwrap();
    p
}

// ---------- checkpoints ----------

/// Every field of a checkpoint reads back as written: NaN (no test set), ±∞, `None` and
/// `Some` options, extreme values, and the run's stamp.
#[test]
fn a_checkpoint_reads_back_every_field_nan_and_none_included() {
    let dir = tempfile::tempdir().unwrap();
    let m = qep::hamiltonian::load(Path::new(&model("xor.yaml"))).unwrap();
    let params = TrainParams::from_model(&m);
    let row = |epoch, cosine, snr| EpochMetrics {
        epoch,
        train_cost: 0.1 + 0.2,
        train_accuracy: 0.75,
        test_cost: f64::NAN,
        test_accuracy: f64::NAN,
        grad_norm: f64::INFINITY,
        learning_rate: 5e-324,
        cosine,
        seconds: f64::NEG_INFINITY,
        shots: u64::MAX,
        snr,
    };
    let c = Checkpoint {
        epoch: 2,
        theta: vec![f64::MAX, -0.0, 1.0 / 3.0, f64::NAN],
        optimizer: OptimizerState {
            step: 7,
            m: vec![f64::MIN_POSITIVE, f64::INFINITY],
            v: vec![f64::NEG_INFINITY, 1e300],
        },
        history: vec![row(1, None, Some(f64::NAN)), row(2, Some(0.999), None)],
        stamp: Some(RunStamp::new(&m, &params, &m.theta())),
    };
    let run = RunDir::create(dir.path()).unwrap();
    run.save_epoch(&m, &c).unwrap();
    let back = checkpoint(dir.path());
    assert_same_run("round trip", &c, &back);
    assert_eq!(back.history[0].cosine, None);
    assert!(back.history[0].snr.unwrap().is_nan());
    assert_eq!(back.history[1].snr, None);
    assert_eq!(back.history[0].grad_norm, f64::INFINITY);
    assert_eq!(back.history[0].seconds, f64::NEG_INFINITY);
    assert!(back.theta[1].is_sign_negative(), "-0.0 keeps its sign");
    assert_eq!(back.stamp, c.stamp);
    assert!(back
        .stamp
        .unwrap()
        .changes(c.stamp.as_ref().unwrap())
        .is_empty());
    // Written as strings, not as null (which does not read back as a float).
    let text = std::fs::read_to_string(dir.path().join("checkpoint.json")).unwrap();
    assert!(text.contains("\"test_cost\": \"NaN\""), "{text}");
    assert!(text.contains("\"grad_norm\": \"inf\""), "{text}");
    // A checkpoint of an older qep (NaN written as null, no stamp) still reads.
    let old = text
        .replace("\"NaN\"", "null")
        .split("\"stamp\"")
        .next()
        .unwrap()
        .trim_end()
        .trim_end_matches(',')
        .to_string()
        + "\n}\n";
    std::fs::write(dir.path().join("checkpoint.json"), old).unwrap();
    let back = checkpoint(dir.path());
    assert!(back.history[0].test_cost.is_nan());
    assert!(back.stamp.is_none());
}

/// `--resume` continues every kind of shipped model (eigenstate, thermal, classical,
/// adiabatically prepared; with and without a test split) to the same bits as an
/// uninterrupted run, says where it resumes from, and a finished run says it is complete.
/// (Iris, the slow one, is resumed in the Ctrl-C test below.)
#[test]
fn resume_continues_every_shipped_model_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "xor.yaml",
        "parity3.yaml",
        "xor_classical.yaml",
        "xor_thermal.yaml",
        "xor_adiabatic.yaml",
        "ising_grid.yaml",
    ] {
        let f = model(name);
        let full = dir.path().join(format!("{name}-full"));
        let part = dir.path().join(format!("{name}-part"));
        json(&["run", &f, "--epochs", "2", "--out", s(&full)]);
        json(&["run", &f, "--epochs", "1", "--out", s(&part)]);
        let out = qep()
            .args(["run", &f, "--epochs", "2", "--resume", "--json", "--out"])
            .arg(&part)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        assert!(err.contains("resuming from epoch 1 of 2"), "{name}: {err}");
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["epochs"], 2, "{name}");
        assert_eq!(summary["resumed_from"], 1, "{name}");
        let (a, b) = (checkpoint(&full), checkpoint(&part));
        assert_ne!(
            a.theta,
            a.stamp.as_ref().unwrap().initial_theta,
            "premise: {name} trained"
        );
        assert_same_run(name, &a, &b);
        // Resumed once more: nothing to do, and said so instead of a 0-epoch summary.
        let before = std::fs::read(part.join("summary.json")).unwrap();
        let out = qep()
            .args(["run", &f, "--epochs", "2", "--resume", "--out"])
            .arg(&part)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            text.contains("already complete (2 epochs)"),
            "{name}: {text}"
        );
        assert_eq!(std::fs::read(part.join("summary.json")).unwrap(), before);
    }
}

/// A checkpoint is refused by a run with another learning rate, β (flag), dataset or initial
/// values, saying what changed; `--force` continues anyway and the summary says so; a
/// checkpoint beyond `--epochs` is refused too.
#[test]
fn resume_refuses_a_checkpoint_made_with_other_settings() {
    let dir = tempfile::tempdir().unwrap();
    let f = copy_model(dir.path(), "xor.yaml");
    let out = dir.path().join("run");
    json(&["run", s(&f), "--epochs", "2", "--out", s(&out)]);
    let resume = |epochs: &str, extra: &[&str]| {
        let mut c = qep();
        c.args([
            "run",
            s(&f),
            "--epochs",
            epochs,
            "--resume",
            "--out",
            s(&out),
        ])
        .args(extra);
        c
    };
    let original = std::fs::read_to_string(&f).unwrap();
    let edit = |from: &str, to: &str| {
        assert!(original.contains(from), "premise: {from}");
        std::fs::write(&f, original.replace(from, to)).unwrap();
    };
    edit("learning_rate: 0.01", "learning_rate: 0.02");
    let err = fails(&mut resume("3", &[]));
    assert!(
        err.contains("made with other settings: training.learning_rate: 0.01 → 0.02"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    edit("optimizer: adam", "optimizer: sgd");
    let err = fails(&mut resume("3", &[]));
    assert!(
        err.contains("training.optimizer: \"adam\" → \"sgd\""),
        "{err}"
    );
    edit("[3, 3]]", "[3, 2]]");
    let err = fails(&mut resume("3", &[]));
    assert!(err.contains("the dataset changed"), "{err}");
    edit(
        "{pauli: \"Z0 Z1 Z4\", value: 0.0}",
        "{pauli: \"Z0 Z1 Z4\", value: 0.5}",
    );
    let err = fails(&mut resume("3", &[]));
    assert!(err.contains("initial θ[0]: 0 → 0.5"), "{err}");
    std::fs::write(&f, &original).unwrap();
    let err = fails(&mut resume("3", &["--beta", "0.02"]));
    assert!(err.contains("ep.beta: 0.01 → 0.02"), "{err}");
    let err = fails(&mut resume("1", &[]));
    assert!(
        err.contains("the checkpoint is at epoch 2, beyond --epochs 1"),
        "{err}"
    );
    // Nothing was touched by the refusals.
    assert_eq!(checkpoint(&out).epoch, 2);
    // --force goes on, and the summary records why it had to.
    let v = json_of(&mut resume("3", &["--beta", "0.02", "--force", "--json"]));
    assert_eq!(v["epochs"], 3);
    assert_eq!(
        v["forced_changes"],
        serde_json::json!(["ep.beta: 0.01 → 0.02"])
    );
    let c = checkpoint(&out);
    assert_eq!(c.epoch, 3);
    // The checkpoint now records the new settings: resuming with them needs no --force.
    let v = json_of(
        qep()
            .args(["run", s(&f), "--epochs", "4", "--resume", "--beta", "0.02"])
            .args(["--json", "--out", s(&out)]),
    );
    assert_eq!(v["epochs"], 4);
    assert!(v.get("forced_changes").is_none(), "{v}");
}

// ---------- output folders ----------

/// A model's `name` is a label: a path in it is a located YAML error for every command that
/// writes into `out/<name>`, before anything is written anywhere.
#[test]
fn a_model_name_cannot_steer_where_files_go() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let body = std::fs::read_to_string(model("xor.yaml")).unwrap();
    for (i, bad) in [
        "../../escaped",
        "/tmp/abs",
        "..",
        ".hidden",
        "a/b",
        "a\\\\b",
        "",
    ]
    .iter()
    .enumerate()
    {
        let f = dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&f, body.replace("name: xor", &format!("name: \"{bad}\""))).unwrap();
        let line = body.lines().position(|l| l == "name: xor").unwrap() + 1;
        for cmd in [
            &["run"][..],
            &["prepare", "--time", "1"],
            &["shots", "--repeats", "2"],
            &["thermalize", "--temperature", "1"],
            &["thermal-scan"],
        ] {
            let err = fails(qep().current_dir(&work).arg(cmd[0]).arg(&f).args(&cmd[1..]));
            let at = format!("error: {}:{line}:7: `name`: ", f.display());
            assert!(err.starts_with(&at), "{bad:?} {cmd:?}: {err}");
            assert!(
                err.contains("expected a label of letters, digits, `-`, `_` and `.`"),
                "{err}"
            );
        }
    }
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "nothing written"
    );
    assert!(!dir.path().join("escaped").exists());
    // A file stem with odd characters is no error: it is made safe for the default folder.
    let odd = work.join("my model (v2).yaml");
    std::fs::write(&odd, body.replace("name: xor\n", "")).unwrap();
    let v = json_of(
        qep()
            .current_dir(&work)
            .args(["run", s(&odd), "--epochs", "1", "--json"]),
    );
    assert_eq!(v["model"], "my_model__v2_");
    assert!(work.join("out/my_model__v2_/summary.json").exists());
    // Whatever a programmatic name holds, the default folder is one component under out/.
    for name in ["../../x", "/etc", "..", ".", "", "a/../../b"] {
        let p = qep::report::default_out_dir(name, "-shots");
        let parts: Vec<_> = p.components().collect();
        assert_eq!(parts.len(), 2, "{name:?} → {}", p.display());
        assert_eq!(parts[0].as_os_str(), "out");
        let leaf = parts[1].as_os_str().to_str().unwrap();
        assert!(
            matches!(parts[1], std::path::Component::Normal(_)),
            "{leaf}"
        );
        assert!(!leaf.starts_with('.') && !leaf.contains('/'), "{leaf}");
    }
}

/// A folder that holds a run, or a study's result files, is refused without --resume or
/// --overwrite (before any work), naming the folder and the file; --overwrite replaces them.
#[test]
fn earlier_results_are_not_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    let f = model("xor.yaml");
    let out = dir.path().join("run");
    json(&["run", &f, "--epochs", "1", "--out", s(&out)]);
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let err = fails(qep().args(["run", &f, "--epochs", "2", "--out", s(&out)]));
    assert!(
        err.contains(&format!(
            "{}: already holds `checkpoint.json` from an earlier run",
            out.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("--resume") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
    let v = json(&["run", &f, "--epochs", "2", "--overwrite", "--out", s(&out)]);
    assert_eq!(v["epochs"], 2);
    assert_eq!(checkpoint(&out).epoch, 2);
    // A study's folder: the same refusal, then --overwrite.
    let scan = dir.path().join("scan");
    let args = ["thermal-scan", &f, "--temperatures", "1", "--out", s(&scan)];
    json(&args);
    let err = fails(qep().args(args));
    assert!(
        err.contains(&format!(
            "{}: already holds `thermal-scan.csv` from an earlier run",
            scan.display()
        )),
        "{err}"
    );
    let v = json_of(qep().args(args).args(["--overwrite", "--json"]));
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
}

// ---------- atomic files ----------

/// A write that fails half way leaves the old file whole and no temporary file behind; one
/// into a missing folder fails naming the file.
#[test]
fn a_failed_write_leaves_the_old_file_and_no_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("result.csv");
    qep::report::write_atomic(&p, b"old,complete\n").unwrap();
    let e = qep::report::write_atomic_with(&p, |w| {
        use std::io::Write;
        w.write_all(&vec![b'x'; 1 << 20])?;
        Err(std::io::Error::other("disk full"))
    })
    .unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    assert!(e.to_string().contains("result.csv"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), b"old,complete\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["result.csv"]);
    let missing = dir.path().join("no/such/folder/x.json");
    let e = qep::report::write_atomic(&missing, b"{}").unwrap_err();
    assert!(e.to_string().contains("no/such/folder"), "{e}");
}

/// Every file qep writes goes through the one atomic writer: no other `fs::write` or
/// `File::create` in the library or the CLI.
#[test]
fn no_result_file_is_written_around_the_atomic_writer() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 50, "premise: the sources were found");
    let mut offenders = Vec::new();
    for f in &files {
        if f.ends_with("report/atomic.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            // The null device (other MPI ranks' output) holds no result.
            if ["fs::write(", "File::create(", "OpenOptions::new("]
                .iter()
                .any(|n| code.contains(n))
                && !code.contains("open(\"/dev/null\")")
            {
                offenders.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

// ---------- export ----------

/// `qep export` bounds its output before writing: a 24-qubit Matrix Market file (gigabytes) is
/// refused at once without --max-size, a small one is refused below its size, and the
/// estimate is within 1 % of the real size (XX + YY cancellations included).
#[test]
fn export_refuses_outputs_above_its_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("H.mtx");
    std::fs::write(&target, "old\n").unwrap();
    let big = crate::common::repo("hamiltonians/bench/tfim_4x6.yaml");
    let err = fails(qep().args(["export", &big, "--format", "mtx", "-o", s(&target)]));
    assert!(
        err.contains("the export of this 24-qubit model would take up to"),
        "{err}"
    );
    assert!(
        err.contains("more than 1.0 GiB") && err.contains("--max-size"),
        "{err}"
    );
    let f = model("tfim_chain.yaml");
    let err = fails(
        qep()
            .args(["export", &f, "--format", "mtx", "--max-size", "1K", "-o"])
            .arg(&target),
    );
    assert!(err.contains("more than 1.0 KiB"), "{err}");
    let err = fails(qep().args(["export", &f, "--format", "mtx", "--max-size", "lots"]));
    assert!(err.contains("--max-size \"lots\""), "{err}");
    // Refused exports left the old file alone and nothing else.
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // Under the limit: written, and the estimate is an upper bound close to the real size.
    for name in ["tfim_chain.yaml", "heisenberg_ring.yaml", "explicit.yaml"] {
        let m = qep::hamiltonian::load(Path::new(&model(name))).unwrap();
        let h = m.hamiltonian(&m.theta(), None, 0.0).unwrap();
        let estimate = qep::operator::matrix_market_bytes(&h) as f64;
        qep()
            .args([
                "export",
                &model(name),
                "--format",
                "mtx",
                "--max-size",
                "100M",
            ])
            .arg("-o")
            .arg(&target)
            .assert()
            .success();
        let real = std::fs::metadata(&target).unwrap().len() as f64;
        assert!(
            (estimate - real).abs() < 0.01 * real,
            "{name}: {real} bytes, estimated {estimate}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

// ---------- Ctrl-C ----------

/// Ctrl-C during `qep run` (Iris, the slow model): the run stops at the next example, saves
/// the last completed epoch, says how to resume and exits 130 — during the first epoch
/// (checkpoint at epoch 0) and after one epoch; `--resume` then ends with the same bits as an
/// uninterrupted run.
#[test]
fn ctrl_c_stops_training_at_a_safe_point_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = model("iris.yaml");
    let (full, part) = (dir.path().join("full"), dir.path().join("part"));
    json(&["run", &f, "--epochs", "2", "--out", s(&full)]);
    let run = |extra: &[&str]| {
        let mut v = vec!["run", f.as_str(), "--epochs", "2", "--out", s(&part)];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let args = run(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = interrupt_when(&args, "training on 105 examples");
    assert_eq!(code, Some(130), "{err}");
    let msg = format!(
        "interrupted at epoch 0; checkpoint saved in {}; resume with --resume",
        part.display()
    );
    assert!(err.contains(&msg), "{err}");
    assert_eq!(checkpoint(&part).epoch, 0);
    let args = run(&["--resume"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = interrupt_when(&args, "epoch    1  cost");
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("resuming from epoch 0 of 2"), "{err}");
    assert!(err.contains(&msg.replace("epoch 0", "epoch 1")), "{err}");
    assert_eq!(checkpoint(&part).epoch, 1);
    assert!(
        !part.join("summary.json").exists(),
        "an interrupted run has no summary"
    );
    let v = json(&["run", &f, "--epochs", "2", "--resume", "--out", s(&part)]);
    assert_eq!(v["resumed_from"], 1);
    assert_same_run("iris", &checkpoint(&full), &checkpoint(&part));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["final_cost"], summary["final_cost"]);
    assert_eq!(v["test_accuracy"], summary["test_accuracy"]);
}

/// Ctrl-C during a study (`qep plateau`) keeps the sizes completed so far, writes them with
/// `complete: false`, names what it saved and exits 130.
#[test]
fn ctrl_c_stops_a_study_and_keeps_its_completed_part() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plateau");
    let (code, err) = interrupt_when(
        &[
            "plateau",
            "--sizes",
            "2,3,16",
            "--samples",
            "40",
            "--out",
            s(&out),
        ],
        "N = 3: 40 draws done",
    );
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "interrupted after 2 of 3 sizes (N = 2, 3); their results are saved in {}/{{plateau.csv, plateau.json, plateau.svg}}",
            out.display()
        )),
        "{err}"
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plateau.json")).unwrap()).unwrap();
    assert_eq!(v["complete"], false);
    assert_eq!(v["sizes"], serde_json::json!([2, 3]));
    assert_eq!(v["per_size"].as_array().unwrap().len(), 2);
    assert!(v["variance"][1].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(out.join("plateau.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

/// Ctrl-C during a large export abandons it: exit 130, no file at the target and no temporary
/// file left beside it.
#[test]
fn ctrl_c_during_an_export_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("chain18.yaml");
    std::fs::write(
        &f,
        "lattice: {shape: chain, sites: 18}\ncouplings:\n  - {type: ZZ, value: -1.0}\n  - {type: X, value: -0.5}\n",
    )
    .unwrap();
    let target = dir.path().join("H.mtx");
    let (code, err) = interrupt_when(
        &[
            "export",
            s(&f),
            "--format",
            "mtx",
            "--max-size",
            "1G",
            "-o",
            s(&target),
        ],
        "writing up to ",
    );
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains(&format!(
            "interrupted; export abandoned, {} not written",
            target.display()
        )),
        "{err}"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["chain18.yaml"]);
}

// ---------- exit codes ----------

/// 0 for success and --help/--version, 1 for every usage error (clap's own 2 included).
#[test]
fn exit_codes_are_zero_one_or_130() {
    for args in [&["--help"][..], &["--version"], &["run", "--help"]] {
        let out = qep().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    for args in [
        &["--no-such-flag"][..],
        &[],
        &["run"],
        &["spectrum", "x.yaml", "--k", "many"],
        &["run", "x.yaml", "--force"],
        &["run", "x.yaml", "--resume", "--overwrite"],
    ] {
        let out = qep().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("error") || err.contains("Usage"),
            "{args:?}: {err}"
        );
    }
}
