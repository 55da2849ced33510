//! The `qep` command line: argument parsing ([`args`]) and one file per subcommand. Each
//! subcommand loads, calls the library and prints; no physics here.

pub mod args;
mod bench;
mod circuit;
mod convert;
mod evolve;
mod export;
mod grad;
mod info;
mod plateau;
mod prepare;
mod reproduce;
mod run;
mod shots;
mod spectrum;
mod thermal_scan;
mod thermalize;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use qep::cancel::Cancel;
use qep::hamiltonian::{self, Model};
use qep::linalg::{BasisMemory, LanczosParams, Method};
use qep::report::{Progress, Provenance};

use args::{Command, MemoryArg, MethodArg, SolverArgs};

/// Runs one parsed command.
pub fn dispatch(cmd: Command) -> Result<()> {
    match cmd {
        Command::Info(a) => info::run(a),
        Command::Spectrum(a) => spectrum::run(a),
        Command::Evolve(a) => evolve::run(a),
        Command::Export(a) => export::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Grad(a) => grad::run(a),
        Command::Plateau(a) => plateau::run(a),
        Command::Run(a) => run::run(a),
        Command::Shots(a) => shots::run(a),
        Command::ThermalScan(a) => thermal_scan::run(a),
        Command::Thermalize(a) => thermalize::run(a),
        Command::Circuit(a) => circuit::run(a),
        Command::Prepare(a) => prepare::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Reproduce(a) => reproduce::run(a),
    }
}

/// The process's cancellation flag, set by the Ctrl-C handler of `main`.
pub fn cancel_flag() -> &'static Cancel {
    static FLAG: OnceLock<Cancel> = OnceLock::new();
    FLAG.get_or_init(Cancel::new)
}

/// Whether the running command checks [`cancel_flag`] at safe points; until one says so, a
/// Ctrl-C ends the process at once (as it always did for the short commands).
static COOPERATIVE: AtomicBool = AtomicBool::new(false);

/// Whether a Ctrl-C should set the flag (true) or end the process at once (false).
pub fn is_cooperative() -> bool {
    COOPERATIVE.load(Ordering::SeqCst)
}

/// Declares that the running command stops at safe points once the flag is set, saves what
/// it has and returns [`Interrupted`]; returns the flag to hand to the library.
fn cooperative() -> Cancel {
    COOPERATIVE.store(true, Ordering::SeqCst);
    cancel_flag().clone()
}

/// A command stopped by Ctrl-C after saving what it could; the message says what was saved
/// and how to go on. `main` prints it and exits with code 130.
#[derive(Debug)]
pub struct Interrupted(pub String);

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Whether an error is (or wraps) the library's [`qep::cancel::Cancelled`].
pub fn is_cancelled(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<qep::cancel::Cancelled>().is_some()
            || matches!(
                c.downcast_ref::<qep::Error>(),
                Some(qep::Error::Cancelled(_))
            )
            || matches!(
                c.downcast_ref::<qep::ep::TrainError>(),
                Some(qep::ep::TrainError::Cancelled(_))
            )
    })
}

/// The output folder of a study: `--out`, else `default()`. Refuses a folder that holds any of
/// the study's result `files` (unless `--overwrite`): checked before the study runs, so that no
/// work is lost to the refusal.
fn study_dir(
    out: &args::StudyOut,
    default: impl FnOnce() -> PathBuf,
    files: &[&str],
) -> Result<PathBuf> {
    let dir = out.out.clone().unwrap_or_else(default);
    qep::report::check_fresh(
        &dir,
        files,
        out.overwrite,
        "--overwrite replaces its results, --out DIR writes elsewhere",
    )?;
    Ok(dir)
}

/// Writes a study's three result files, named `files` = `[csv, json, svg]`, into `dir` (see
/// [`write_results`]).
fn write_study(dir: &Path, files: &[&str; 3], [csv, json, svg]: [String; 3]) -> Result<()> {
    let [c, j, s] = *files;
    write_results(dir, &[(c, csv), (j, json), (s, svg)])
}

/// Creates `dir` and writes each `(name, text)` into it atomically.
fn write_results(dir: &Path, files: &[(&str, String)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    for (name, text) in files {
        qep::report::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// `DIR/{a, b, c}` for messages.
fn listing(dir: &Path, files: &[&str]) -> String {
    format!("{}/{{{}}}", dir.display(), files.join(", "))
}

/// Loads a model. Model errors already start with `file:line:col`, so no context is added.
fn load(file: &Path) -> Result<Model> {
    Ok(hamiltonian::load(file)?)
}

/// Training example `i` of the model's dataset, or an error naming the file.
fn training_example(model: &Model, file: &Path, i: usize) -> Result<qep::hamiltonian::Example> {
    let n = model.dataset.as_ref().map_or(0, |d| d.train.len());
    model
        .dataset
        .as_ref()
        .and_then(|d| d.train.get(i))
        .cloned()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: training example {i} does not exist; expected 0..{n}",
                file.display()
            )
        })
}

/// Prefixes a library error with the model's file name, so that every message starts with it
/// (once: a message that already starts with it is left as it is).
fn in_file<T, E: Into<anyhow::Error>>(file: &Path, r: Result<T, E>) -> Result<T> {
    r.map_err(|e| {
        let e = e.into();
        let name = file.display().to_string();
        if e.to_string().starts_with(&name) {
            e
        } else {
            e.context(name)
        }
    })
}

/// A command's JSON: its result fields plus `provenance`.
#[derive(Serialize)]
struct WithProvenance<'a, T: Serialize> {
    #[serde(flatten)]
    result: &'a T,
    provenance: Provenance,
}

/// Prints `result` as pretty JSON with the provenance of `model`.
fn print_json<T: Serialize>(
    result: &T,
    model: &Model,
    seed: Option<u64>,
    settings: serde_json::Value,
) -> Result<()> {
    let provenance = Provenance::new(
        Some(&model.source.path),
        Some(model.source.sha256.clone()),
        seed,
        settings,
    );
    qep::finite::check_finite(result, &model.source.path.display().to_string())?;
    let out = WithProvenance { result, provenance };
    let mut text = serde_json::to_string_pretty(&out)?;
    text.push('\n');
    // A reader that stops early (`| head`) is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Refuses a result with a NaN or an infinity anywhere in it (the library's central guard),
/// before anything of it is printed or written.
fn finite<T: Serialize>(file: &Path, out: &T) -> Result<()> {
    qep::finite::check_finite(out, &file.display().to_string())?;
    Ok(())
}

/// The library's Lanczos settings from the CLI flags.
fn lanczos_params(s: &SolverArgs, k: usize) -> LanczosParams {
    LanczosParams {
        k,
        tol: s.tol,
        max_matvecs: s.max_matvecs,
        seed: s.seed,
        memory: match s.memory {
            MemoryArg::Auto => BasisMemory::Auto,
            MemoryArg::Store => BasisMemory::Store,
            MemoryArg::TwoPass => BasisMemory::TwoPass,
        },
        method: match s.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Lanczos => Method::Lanczos,
            MethodArg::Dense => Method::Dense,
        },
        ..LanczosParams::default()
    }
}

/// A spinner on stderr for work that may take over a second (hidden when stderr is not a
/// terminal, so scripts and `--json` pipelines see nothing).
fn spinner(msg: String) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg);
    steady_tick(&pb, Duration::from_millis(120));
    pb
}

/// A bar on stderr for work of known size, with the time left (hidden when stderr is not a
/// terminal, like [`spinner`]).
fn bar(len: u64, msg: String, unit: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} {{bar:30}} {{pos}}/{{len}} {unit} [{{elapsed}} < {{eta}}]"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(msg);
    steady_tick(&pb, Duration::from_millis(200));
    pb
}

/// Redraws `pb` every `interval` from a thread of indicatif's, when stderr is a terminal:
/// hidden, the bar draws nothing, and the thread would only be started and stopped for
/// every stage of every command run from a script.
pub(super) fn steady_tick(pb: &ProgressBar, interval: Duration) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        pb.enable_steady_tick(interval);
    }
}

/// Shows the library's [`Progress`] reports on stderr: a spinner for a phase of unknown
/// length, a bar for one of known length (hidden when stderr is not a terminal).
struct ProgressView(Mutex<Option<(String, ProgressBar)>>);

impl ProgressView {
    fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// Shows one report, replacing the previous display when the phase changes.
    fn report(&self, p: Progress) {
        let mut shown = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match p {
            Progress::Phase { what } => {
                if let Some((_, old)) = shown.take() {
                    old.finish_and_clear();
                }
                *shown = Some((what.clone(), spinner(what)));
            }
            Progress::Steps {
                what,
                done,
                total,
                unit,
            } => {
                let same = shown
                    .as_ref()
                    .is_some_and(|(w, b)| *w == what && b.length() == Some(total));
                if !same {
                    if let Some((_, old)) = shown.take() {
                        old.finish_and_clear();
                    }
                    *shown = Some((what.clone(), bar(total, what, unit)));
                }
                if let Some((_, b)) = shown.as_ref() {
                    b.set_position(done);
                }
            }
        }
    }
}

impl Drop for ProgressView {
    fn drop(&mut self) {
        let shown = self.0.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, b)) = shown.take() {
            b.finish_and_clear();
        }
    }
}

/// `1.5 GiB`-style byte counts.
fn bytes(b: u128) -> String {
    qep::state::memory::human_bytes(b)
}

/// `context: cause: cause…`, skipping a cause whose text the message already contains (the
/// library's messages quote their I/O and parse errors, which are also their `source`).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if msg.contains(&c) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&c);
    }
    msg
}
