//! Hostile inputs to the model loader: the depth limit of the YAML, size limits and
//! regular-file checks of model files and CSV datasets, "did you mean" suggestions at every
//! level of the schema, usage errors, and the corpus of reproducers in `tests/data/bad/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use qep::hamiltonian::{load, load_with, parse_str, Limits, ModelError, MAX_DEPTH};
use tempfile::TempDir;

use crate::common::{fails, qep, repo};

/// A `qep` child that takes longer than this is hung (reading a device, waiting on a FIFO,
/// parsing quadratically); every command here fails in milliseconds when it works.
const HANG: Duration = Duration::from_secs(60);

/// A file of `tests/data/bad/`.
fn bad(name: &str) -> String {
    repo(&format!("tests/data/bad/{name}"))
}

/// Runs `qep ARGS` under the hang timeout; it must fail cleanly (exit 1, `error: …`). Returns
/// stderr.
fn qep_fails(args: &[&str]) -> String {
    fails(qep().args(args).timeout(HANG))
}

/// Writes `text` to `dir/name`.
fn write(dir: &TempDir, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The message of a model that must not load.
#[track_caller]
fn parse_err(text: &str) -> String {
    match parse_str(text, Path::new("m.yaml")) {
        Ok(_) => panic!("the model must be rejected:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// Creates a FIFO (named pipe) at `p`.
fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", p.display());
}

// ---------------------------------------------------------------- the corpus of the review

#[test]
fn corpus_deep_yaml_fails_at_the_depth_limit() {
    for (name, line, col) in [("deep_flow.yaml", 3, 263), ("deep_block.yaml", 4, 129)] {
        let f = bad(name);
        let err = qep_fails(&["info", &f]);
        assert_eq!(
            err.trim_end(),
            format!(
                "error: {f}:{line}:{col}: `terms`: the document nests deeper than 64 levels; \
                 expected at most 64 nested mappings and lists (a model needs fewer than 10)"
            )
        );
    }
}

#[test]
fn corpus_alias_bomb_fails_without_expanding() {
    let f = bad("alias_bomb.yaml");
    let err = qep_fails(&["info", &f]);
    assert!(err.starts_with(&format!("error: {f}:1:1: ")), "{err}");
    assert!(
        err.contains("aliases (`*name`) expand to more than 100 times the nodes written"),
        "{err}"
    );
}

#[test]
fn corpus_dataset_on_dev_zero_is_not_a_file() {
    let f = bad("dataset_dev_zero.yaml");
    let err = qep_fails(&["info", &f]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {f}:7:16: `dataset.csv`: `/dev/zero` is a character device, not a regular \
             file; expected a CSV file (path relative to the model file)"
        )
    );
}

#[test]
fn corpus_unknown_key_param_suggests_params() {
    let f = bad("unknown_key_param.yaml");
    let err = qep_fails(&["info", &f]);
    assert!(
        err.starts_with(&format!(
            "error: {f}:5:1: `param`: unknown key `param` (did you mean `params`?); expected one of the keys `version`, "
        )),
        "{err}"
    );
}

#[test]
fn corpus_pauli_letters_run_together_suggest_spaces() {
    let f = bad("pauli_concat.yaml");
    let err = qep_fails(&["info", &f]);
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {f}:4:13: `terms[0].pauli`: bad qubit index in `X0X1` of \"X0X1\"; expected a \
             letter followed by a qubit number, e.g. X3 (did you mean `X0 X1`?)"
        )
    );
}

#[test]
fn corpus_names_that_leave_the_output_folder_are_refused() {
    for name in ["name_parent.yaml", "name_dotdot.yaml", "name_absolute.yaml"] {
        let f = bad(name);
        let err = qep_fails(&["info", &f]);
        assert!(
            err.starts_with(&format!("error: {f}:2:7: `name`: ")),
            "{err}"
        );
    }
}

#[test]
fn corpus_huge_coefficients_are_refused() {
    for (name, at) in [
        ("coeff_1e300.yaml", "4:29: `terms[0].coeff`"),
        ("heisenberg_xx_1e308.yaml", "6:23: `couplings[0].value`"),
        ("init_uniform_1e308.yaml", "6:28: `params[0].init`"),
    ] {
        let f = bad(name);
        let err = qep_fails(&["spectrum", &f, "--k", "1"]);
        assert!(
            err.starts_with(&format!("error: {f}:{at}: coefficient ")),
            "{err}"
        );
        assert!(err.contains("expected a sum ≤ 1e12"), "{err}");
    }
}

// ---------------------------------------------------------------- nesting depth

/// `qubits: 2` and a `terms` value nested `levels` deep (the root mapping is level 1).
fn nested_terms(levels: usize) -> String {
    let n = levels - 1;
    format!("qubits: 2\nterms: {}{}\n", "[".repeat(n), "]".repeat(n))
}

#[test]
fn depth_limit_is_exact_and_located() {
    assert_eq!(MAX_DEPTH, 64);
    // At the limit the document reaches the schema (which wants terms, not lists).
    let at_limit = parse_err(&nested_terms(MAX_DEPTH));
    assert!(
        at_limit.contains("`terms[0]`: invalid type: sequence"),
        "{at_limit}"
    );
    // One level more is refused before deserializing, at the bracket that opens it.
    match parse_str(&nested_terms(MAX_DEPTH + 1), Path::new("m.yaml")) {
        Err(ModelError::TooDeep { at, max }) => {
            assert_eq!(max, 64);
            assert_eq!((at.line, at.col, at.key.as_str()), (2, 8 + 63, "terms"));
        }
        other => panic!("expected TooDeep, got {other:?}"),
    }
    // Block mappings count the same way.
    let mut block = String::from("qubits: 2\n");
    for i in 0..=MAX_DEPTH {
        block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
    }
    // The mapping that holds `k64` is level 65: line 66, column 129.
    assert_eq!(
        parse_err(&block),
        "m.yaml:66:129: `k0`: the document nests deeper than 64 levels; expected at most 64 \
         nested mappings and lists (a model needs fewer than 10)"
    );
}

// ---------------------------------------------------------------- model files

#[test]
fn model_path_must_be_a_regular_file() {
    let dir = TempDir::new().unwrap();
    let cases: [(&Path, &str); 2] = [
        (Path::new("/dev/null"), "a character device"),
        (dir.path(), "a directory"),
    ];
    for (p, kind) in cases {
        let e = load(p).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: the path is {kind}, not a regular file; expected a model file (YAML text)",
                p.display()
            )
        );
    }
    // A FIFO with no writer: opening it would block forever.
    let fifo = dir.path().join("model.yaml");
    mkfifo(&fifo);
    let f = fifo.display().to_string();
    let err = qep_fails(&["info", &f]);
    assert_eq!(
        err.trim_end(),
        format!("error: {f}: the path is a FIFO (named pipe), not a regular file; expected a model file (YAML text)")
    );
}

#[test]
fn model_file_size_is_capped() {
    let dir = TempDir::new().unwrap();
    let text = "qubits: 2\nterms:\n  - {pauli: \"X0 X1\", coeff: 1.0}\n";
    let p = write(&dir, "m.yaml", text);
    let small = Limits {
        max_model_bytes: text.len() as u64 - 1,
        ..Limits::default()
    };
    assert_eq!(
        load_with(&p, &small).unwrap_err().to_string(),
        format!(
            "{}: the file has more than {} bytes; expected a model file of at most {} bytes \
             (write large datasets as a CSV file)",
            p.display(),
            text.len() - 1,
            text.len() - 1
        )
    );
    let exact = Limits {
        max_model_bytes: text.len() as u64,
        ..Limits::default()
    };
    assert_eq!(load_with(&p, &exact).unwrap().qubits, 2);
    // The default: 16 MiB, here of comments after a valid model.
    assert_eq!(Limits::default().max_model_bytes, 16 << 20);
    let mut big = text.to_string();
    let comment = format!("# {}\n", "x".repeat(1000));
    while big.len() <= 16 << 20 {
        big.push_str(&comment);
    }
    let p = write(&dir, "big.yaml", &big);
    assert!(matches!(
        load(&p),
        Err(ModelError::ModelTooLarge { max, .. }) if max == 16 << 20
    ));
}

// ---------------------------------------------------------------- CSV datasets

/// A model with one input and one output reading `csv` (relative to the model).
fn csv_model(csv: &str) -> String {
    format!(
        "qubits: 2\ninputs: [0]\noutputs: [1]\ndataset: {{csv: {csv}, features: [x], target: y}}\n"
    )
}

#[test]
fn dataset_must_be_a_regular_file() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let m = write(&dir, "m.yaml", csv_model("sub"));
    assert_eq!(
        load(&m).unwrap_err().to_string(),
        format!(
            "{}:4:16: `dataset.csv`: `{}` is a directory, not a regular file; expected a CSV \
             file (path relative to the model file)",
            m.display(),
            dir.path().join("sub").display()
        )
    );
    // A FIFO: the old reader waited for a writer forever.
    mkfifo(&dir.path().join("pipe.csv"));
    let m = write(&dir, "fifo.yaml", csv_model("pipe.csv"));
    let f = m.display().to_string();
    let err = qep_fails(&["info", &f]);
    assert!(
        err.starts_with(&format!("error: {f}:4:16: `dataset.csv`: `"))
            && err.contains("pipe.csv` is a FIFO (named pipe), not a regular file"),
        "{err}"
    );
}

/// Loads `m.yaml` of `dir` within `limits`; it must fail with [`ModelError::CsvTooLarge`].
#[track_caller]
fn csv_too_large(dir: &TempDir, limits: &Limits) -> (usize, &'static str, u64, String) {
    match load_with(&dir.path().join("m.yaml"), limits) {
        Err(e @ ModelError::CsvTooLarge { .. }) => {
            let msg = e.to_string();
            let ModelError::CsvTooLarge {
                line,
                quantity,
                max,
                ..
            } = e
            else {
                unreachable!()
            };
            (line, quantity, max, msg)
        }
        other => panic!("expected CsvTooLarge, got {other:?}"),
    }
}

#[test]
fn dataset_rows_columns_bytes_and_lines_are_capped() {
    let dir = TempDir::new().unwrap();
    write(&dir, "m.yaml", csv_model("d.csv"));
    let csv = write(
        &dir,
        "d.csv",
        "x,y\n# a comment\n0.1,1\n0.2,-1\n0.3,1\n0.4,-1\n",
    );
    let limits = |f: &dyn Fn(&mut Limits)| {
        let mut l = Limits::default();
        f(&mut l);
        l
    };
    // Four data rows: a limit of 4 loads them, 3 stops at the fourth (line 6).
    let four = load_with(&dir.path().join("m.yaml"), &limits(&|l| l.max_rows = 4)).unwrap();
    assert_eq!(four.dataset.unwrap().train.len(), 4);
    let (line, what, max, msg) = csv_too_large(&dir, &limits(&|l| l.max_rows = 3));
    assert_eq!((line, what, max), (6, "data rows", 3));
    assert_eq!(
        msg,
        format!(
            "{}:6: more than 3 data rows; expected a dataset of at most 3 data rows",
            csv.display()
        )
    );
    // Two columns in the header.
    let (line, what, max, _) = csv_too_large(&dir, &limits(&|l| l.max_columns = 1));
    assert_eq!((line, what, max), (1, "columns", 1));
    // 42 bytes in all: refused from its size before reading.
    let (line, what, max, _) = csv_too_large(&dir, &limits(&|l| l.max_dataset_bytes = 41));
    assert_eq!((line, what, max), (1, "bytes", 41));
    assert!(load_with(
        &dir.path().join("m.yaml"),
        &limits(&|l| l.max_dataset_bytes = 42)
    )
    .is_ok());
    // The longest line is `# a comment` (11 bytes).
    let (line, what, max, _) = csv_too_large(&dir, &limits(&|l| l.max_line_bytes = 10));
    assert_eq!((line, what, max), (2, "bytes in one line", 10));
    assert!(load_with(
        &dir.path().join("m.yaml"),
        &limits(&|l| l.max_line_bytes = 11)
    )
    .is_ok());

    // The defaults.
    let d = Limits::default();
    assert_eq!(
        (
            d.max_dataset_bytes,
            d.max_rows,
            d.max_columns,
            d.max_line_bytes
        ),
        (1 << 30, 10_000_000, 10_000, 1 << 20)
    );
    let long = format!("x,y\n0.1,1\n0.{},1\n", "5".repeat(1 << 20));
    std::fs::write(&csv, long).unwrap();
    let (line, what, max, _) = csv_too_large(&dir, &Limits::default());
    assert_eq!((line, what, max), (3, "bytes in one line", 1 << 20));
}

#[test]
fn dataset_line_that_is_not_utf8_is_located() {
    let dir = TempDir::new().unwrap();
    let m = write(&dir, "m.yaml", csv_model("d.csv"));
    let csv = write(&dir, "d.csv", b"x,y\n0.1,1\n0.2,\xff1\n");
    assert_eq!(
        load(&m).unwrap_err().to_string(),
        format!(
            "{}:3: byte 5 of the line is not UTF-8 text; expected a UTF-8 text file of \
             comma-separated lines",
            csv.display()
        )
    );
    // CR LF line ends are still plain line ends, and a byte-order mark is not part of the
    // first column's name.
    std::fs::write(&csv, "\u{feff}x,y\r\n0.1,1\r\n0.2,-1\r\n").unwrap();
    assert_eq!(load(&m).unwrap().dataset.unwrap().train.len(), 2);
    // No limit at all is a limit too.
    let unbounded = Limits {
        max_dataset_bytes: u64::MAX,
        max_rows: usize::MAX,
        max_columns: usize::MAX,
        max_line_bytes: usize::MAX,
        max_model_bytes: u64::MAX,
    };
    assert_eq!(
        load_with(&m, &unbounded)
            .unwrap()
            .dataset
            .unwrap()
            .train
            .len(),
        2
    );
}

// ---------------------------------------------------------------- did you mean …?

#[test]
fn unknown_keys_at_every_level_suggest_the_nearest() {
    let cases = [
        ("qubits: 2\nqbits: 3\n", "qbits", "qubits"),
        ("qubits: 2\nTerms: []\n", "Terms", "terms"),
        ("lattice: {shape: chain, site: 3}\n", "site", "sites"),
        ("qubits: 2\nterms:\n  - {pauli: X0, coef: 1}\n", "coef", "coeff"),
        ("qubits: 2\nterms:\n  - {pauli: X0, coeff: {re: 1, imag: 2}}\n", "imag", "im"),
        ("qubits: 2\nparams:\n  - {pauli: X0, valeu: 1}\n", "valeu", "value"),
        ("qubits: 2\nparams:\n  - {pauli: X0, init: {unifrom: [0, 1]}}\n", "unifrom", "uniform"),
        ("lattice: {shape: chain, sites: 2}\ncouplings:\n  - {type: ZZ, vale: 1}\n", "vale", "value"),
        ("qubits: 2\nstate: {eigne: 1}\n", "eigne", "eigen"),
        ("qubits: 2\npreparation: {adiabatic: {time: 1, stpes: 3}}\n", "stpes", "steps"),
        ("qubits: 2\npreparation: {adiabatc: {time: 1}}\n", "adiabatc", "adiabatic"),
        ("qubits: 2\ntraining: {epoch: 3}\n", "epoch", "epochs"),
        ("qubits: 2\nlindblad: {jump: []}\n", "jump", "jumps"),
        ("qubits: 2\nlindblad: {jumps: [{op: X, rates: 1}]}\n", "rates", "rate"),
        (
            "qubits: 2\ninputs: [0]\noutputs: [1]\ndataset: {input: [[1]], targets: [[1]]}\n",
            "input",
            "inputs",
        ),
        (
            "qubits: 2\ninputs: [0]\noutputs: [1]\ndataset: {csv: d.csv, features: [0], target: 1, encoding: {scal: [0, 1]}}\n",
            "scal",
            "scale",
        ),
    ];
    for (text, key, want) in cases {
        let msg = parse_err(text);
        let needle = format!("unknown key `{key}` (did you mean `{want}`?); expected ");
        assert!(msg.contains(&needle), "{msg:?} should contain {needle:?}");
    }
    // Nothing close: no suggestion rather than a wrong one.
    let msg = parse_err("qubits: 2\nfoo: 1\n");
    assert!(
        msg.contains("unknown key `foo`; expected one of the keys"),
        "{msg}"
    );
}

#[test]
fn unknown_values_suggest_the_nearest() {
    let cases = [
        (
            "qubits: 2\npreparation: {adiabatic: {schedule: smoth}}\n",
            "unknown value `smoth` (did you mean `smooth`?)",
        ),
        (
            "lattice: {shape: chain, sites: 2}\ncouplings:\n  - {type: zz, value: 1}\n",
            "unknown value `zz` (did you mean `ZZ`?)",
        ),
        (
            "lattice: {shape: chian, sites: 2}\n",
            "unknown value `chian` (did you mean `chain`?)",
        ),
        ("qubits: 2\nkind: quantm\n", "unknown value `quantm` (did you mean `quantum`?)"),
        (
            "qubits: 2\ntraining: {optimizer: adm}\n",
            "unknown value `adm` (did you mean `adam`?)",
        ),
        (
            "qubits: 2\nthermal_gradient: kubo\n",
            "unknown value `kubo` (did you mean `kubo-mori`?)",
        ),
        (
            "qubits: 2\nstate: grund\n",
            "invalid value: string \"grund\" (did you mean `ground`?)",
        ),
        (
            "qubits: 2\npreparation: adiabatc\n",
            "invalid value: string \"adiabatc\" (did you mean `adiabatic`?)",
        ),
        (
            "lattice: {shape: grid, rows: 2, cols: 2}\ncouplings:\n  - {type: X, on: hiden, value: 1}\n",
            "`hiden` is not a site set here (did you mean `hidden`?)",
        ),
        (
            "lattice: {shape: chain, sites: 3}\ncouplings:\n  - {type: ZZ, on: edgs, value: 1}\n",
            "`edgs` is not a set of pairs (did you mean `edges`?)",
        ),
        (
            "lattice: {shape: grid, rows: 2, cols: 2}\ninputs: left-colum\n",
            "`left-colum` is not a site set here (did you mean `left-column`?)",
        ),
        (
            "qubits: 2\nlindblad: {jumps: [{op: sigmam, rate: 1}]}\n",
            "unknown jump operator `sigmam` (did you mean `sigma-`?)",
        ),
        (
            "qubits: 2\nlindblad: {jumps: [{op: Z, qubits: al, rate: 1}]}\n",
            "`al` is not a site set here (did you mean `all`?)",
        ),
        (
            "qubits: 3\nparams:\n  - {pauli: \"z0Z2\", value: 1}\n",
            "(did you mean `z0 Z2`?)",
        ),
        (
            "qubits: 3\nlindblad: {jumps: [{op: [{pauli: \"X0Y1\", coeff: 1}], rate: 1}]}\n",
            "(did you mean `X0 Y1`?)",
        ),
    ];
    for (text, needle) in cases {
        let msg = parse_err(text);
        assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
    }
    // A string that spaced out is still wrong gets no suggestion.
    let msg = parse_err("qubits: 3\nterms:\n  - {pauli: \"X0X0\", coeff: 1}\n");
    assert!(!msg.contains("did you mean"), "{msg}");
}

#[test]
fn csv_column_typo_suggests_the_header_name() {
    let dir = TempDir::new().unwrap();
    write(
        &dir,
        "d.csv",
        "sepal_length,petal_width,species\n1,2,a\n3,4,b\n",
    );
    let m = write(
        &dir,
        "m.yaml",
        "qubits: 2\ninputs: [0]\noutputs: [1]\ndataset: {csv: d.csv, features: [sepal_lenght], target: species}\n",
    );
    let msg = load(&m).unwrap_err().to_string();
    assert!(
        msg.contains("column `sepal_lenght` (did you mean `sepal_length`?) is not in the header"),
        "{msg}"
    );
}

// ---------------------------------------------------------------- usage errors

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    // clap's own exit code for a usage error is 2; qep's contract is 1 for every bad input.
    let err = fails(qep().args(["info", "--frobnicate"]));
    assert!(err.contains("unexpected argument '--frobnicate'"), "{err}");
    let err = fails(qep().args(["spectrum", "x.yaml", "--k", "many"]));
    assert!(err.contains("invalid value 'many'"), "{err}");
    let out = qep().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: qep"));
}

#[test]
fn qasm_path_must_be_a_bounded_regular_file() {
    // /dev/zero never ends: it must be refused before a byte is read.
    let err = qep_fails(&["circuit", "run", "/dev/zero"]);
    assert_eq!(
        err.trim_end(),
        "error: /dev/zero: the path is a character device, not a regular file"
    );
    let dir = TempDir::new().unwrap();
    let fifo = dir.path().join("c.qasm");
    mkfifo(&fifo);
    let f = fifo.display().to_string();
    let err = qep_fails(&["circuit", "run", &f]);
    assert!(
        err.contains("a FIFO (named pipe), not a regular file"),
        "{err}"
    );
    // One byte over the cap (a sparse file: no disk is used).
    let big = dir.path().join("big.qasm");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(qep::circuit::qasm::MAX_QASM_BYTES + 1)
        .unwrap();
    let b = big.display().to_string();
    let err = qep_fails(&["circuit", "run", &b]);
    assert_eq!(
        err.trim_end(),
        format!("error: {b}: the file is larger than 64.0 MiB")
    );
}
