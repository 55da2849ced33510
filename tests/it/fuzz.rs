//! Bounded fuzzing that stays in the suite: seeded random and mutated model files, CSV
//! datasets, QASM programs and command lines. The properties: no panic, no signal, exit code 0
//! or 1, and a non-empty message on failure. In-process library calls carry the volume; a
//! sample goes through the `qep` binary, every child under a timeout so that a hang fails the
//! test instead of hanging it.
//!
//! The seeds are fixed, so a failure prints the case that reproduces it. `QEP_FUZZ_SCALE=N`
//! runs N times as many cases (other draws of the same generators) for a longer local search.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tempfile::TempDir;

use qep::hamiltonian::{parse_str, Model};

use crate::common::{net3_model, qep, repo};

/// A child `qep` that runs longer than this has hung: every command below works on models of
/// at most a few qubits.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Memory cap of the children, so that a mutated model of 30 qubits fails its memory check
/// instead of allocating gigabytes on a shared machine.
const CHILD_MEMORY: &str = "256M";

/// How many times the default number of cases to run (`QEP_FUZZ_SCALE`, default 1).
fn scale() -> usize {
    std::env::var("QEP_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// The generator of one test: a fixed seed, one stream per test.
fn rng(stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(0x5eed_f022);
    r.set_stream(stream);
    r
}

/// The first `n` characters of an input, for a failure report.
fn head(s: &str, n: usize) -> String {
    let mut h: String = s.chars().take(n).collect();
    if h.len() < s.len() {
        h.push('…');
    }
    h
}

/// Collected property violations; the test fails with all of them listed.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn add(&mut self, case: usize, what: &str, input: &str) {
        self.0.push(format!(
            "case {case}: {what}\n--- input ---\n{}\n",
            head(input, 1500)
        ));
    }

    #[track_caller]
    fn assert_none(&self, cases: usize) {
        assert!(
            self.0.is_empty(),
            "{} of {cases} cases broke a property:\n{}",
            self.0.len(),
            self.0.iter().take(5).cloned().collect::<String>()
        );
    }
}

// ------------------------------------------------------------------ mutations

/// Values that stress a number field: huge, tiny, negative, non-finite, out of every integer
/// range, not a number at all.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "63",
    "64",
    "65",
    "1e300",
    "1e308",
    "-1e308",
    "1e309",
    "5e-324",
    ".nan",
    ".inf",
    "-.inf",
    "NaN",
    "inf",
    "18446744073709551616",
    "-9223372036854775809",
    "4294967296",
    "0x1F",
    "1_000",
    "~",
    "\"3\"",
    "[]",
    "{}",
];

/// Values that stress a string or name field.
const WORDS: &[&str] = &[
    "edges",
    "hidden",
    "sites",
    "all",
    "left-column",
    "X0X1",
    "X0 X0",
    "Z99",
    "\"\"",
    "I",
    "sigma-",
    "ground",
    "{eigen: 3}",
    "{adiabatic: {time: 0}}",
    "{uniform: [1, 0]}",
    "{normal: [0, -1]}",
    "[[0, 1], [1, 1]]",
    "[0, 0]",
    "[1, -1]",
    "&a [1, 2]",
    "*a",
    "!!binary aGVsbG8=",
    "\"\\u0000\"",
    "'it''s'",
    "|\n  block",
    "chain",
    "all-to-all",
];

/// Keys of the schema (so that a changed key is sometimes another valid key in a wrong place)
/// and near misses.
const KEYS: &[&str] = &[
    "qubits",
    "qbits",
    "terms",
    "params",
    "param",
    "couplings",
    "inputs",
    "outputs",
    "lattice",
    "shape",
    "sites",
    "rows",
    "cols",
    "periodic",
    "pauli",
    "coeff",
    "value",
    "init",
    "type",
    "on",
    "trainable",
    "dataset",
    "csv",
    "features",
    "target",
    "targets",
    "test_fraction",
    "state",
    "beta",
    "temperature",
    "preparation",
    "training",
    "lindblad",
    "jumps",
    "rate",
    "seed",
    "version",
    "name",
    "<<",
    "? complex",
];

/// Byte ranges of the numbers in `line` (digits with an optional sign, point and exponent).
fn number_spans(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if !starts {
            i += 1;
            continue;
        }
        let s = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_digit() || matches!(b[j], b'.' | b'e' | b'E')) {
            j += 1;
        }
        spans.push((s, j));
        i = j;
    }
    spans
}

/// Byte range of the first `key:` of `line` (after indentation, `- ` and `{`).
fn key_span(line: &str) -> Option<(usize, usize)> {
    let colon = line.find(':')?;
    let key_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let start = line[..colon]
        .char_indices()
        .rev()
        .find(|&(_, c)| !key_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    (start < colon).then_some((start, colon))
}

/// Value part of a `key: value` line, if any.
fn value_span(line: &str) -> Option<(usize, usize)> {
    let colon = line.find(": ")?;
    let end = line[colon..]
        .find([',', '}', '#'])
        .map_or(line.len(), |e| colon + e);
    (colon + 2 < end).then_some((colon + 2, end))
}

/// One random edit of a YAML text: delete, duplicate or swap lines, change a number, key or
/// value, nest a value deeply, re-indent, insert stray syntax, or cut the text.
fn mutate_yaml(text: &str, r: &mut ChaCha8Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    let i = r.random_range(0..n);
    match r.random_range(0..11) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        2 => lines.swap(i, r.random_range(0..n)),
        3 | 4 => {
            // Numbers are the likeliest place for trouble: twice the weight.
            let spans = number_spans(&lines[i]);
            if let Some(&(s, e)) = spans.choose(r) {
                lines[i].replace_range(s..e, NUMBERS.choose(r).unwrap());
            } else {
                lines[i].push_str(&format!(" {}", NUMBERS.choose(r).unwrap()));
            }
        }
        5 => {
            if let Some((s, e)) = key_span(&lines[i]) {
                let k = if r.random_bool(0.5) {
                    KEYS.choose(r).unwrap().to_string()
                } else {
                    // A typo: drop or repeat one character.
                    let mut k: Vec<char> = lines[i][s..e].chars().collect();
                    let j = r.random_range(0..k.len());
                    if r.random_bool(0.5) {
                        k.remove(j);
                    } else {
                        k.insert(j, k[j]);
                    }
                    k.into_iter().collect()
                };
                lines[i].replace_range(s..e, &k);
            }
        }
        6 => {
            if let Some((s, e)) = value_span(&lines[i]) {
                lines[i].replace_range(s..e, WORDS.choose(r).unwrap());
            }
        }
        7 => {
            // Nest a value: around the limit, far beyond it, or far beyond serde_yaml's own.
            let depth = *[2usize, 30, 63, 64, 65, 300, 20_000].choose(r).unwrap();
            let (open, close) = if r.random_bool(0.5) {
                ("[".repeat(depth), "]".repeat(depth))
            } else {
                ("{a: ".repeat(depth), "}".repeat(depth))
            };
            match value_span(&lines[i]) {
                Some((s, e)) => {
                    let v = lines[i][s..e].to_string();
                    lines[i].replace_range(s..e, &format!("{open}{v}{close}"));
                }
                None => lines.insert(i, format!("deep: {open}1{close}")),
            }
        }
        8 => {
            let indent = " ".repeat(r.random_range(0..6));
            let l = lines[i].trim_start().to_string();
            lines[i] = format!("{indent}{l}");
        }
        9 => {
            let stray = [
                ":",
                "- ",
                "{",
                "[",
                "\"",
                "'",
                "\t",
                "&x ",
                "*x",
                "---",
                "...",
                "%YAML 1.2",
                "#",
                "\u{feff}",
                "\u{0}",
                "é",
                "? ",
            ];
            let l = &mut lines[i];
            let mut at = r.random_range(0..=l.len());
            while !l.is_char_boundary(at) {
                at -= 1;
            }
            l.insert_str(at, stray.choose(r).unwrap());
        }
        _ => {
            let mut out = lines.join("\n");
            let mut cut = r.random_range(0..=out.len());
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            return out;
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The model files of `hamiltonians/` (not the large benchmark ones): the seeds of the
/// mutations, with their paths (a CSV dataset resolves against them).
fn shipped_models() -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(repo("hamiltonians"));
    let mut v: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .expect("hamiltonians/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).expect("a shipped model is text");
            (p, t)
        })
        .collect();
    v.sort();
    assert!(v.len() >= 8, "the shipped models are the seeds: {v:?}");
    v
}

/// Loads `text` in-process and, if it loads, summarises and compiles it; `Err` names a broken
/// property (a panic, or an error with an empty message).
fn check_model(text: &str, path: &Path) -> Result<Option<Model>, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| match parse_str(text, path) {
        Ok(model) => {
            if let Err(e) = qep::report::ModelInfo::new(&model) {
                if e.to_string().trim().is_empty() {
                    return Err("ModelInfo failed with an empty message".to_string());
                }
            }
            Ok(Some(model))
        }
        Err(e) if e.to_string().trim().is_empty() => Err(format!("empty error message ({e:?})")),
        Err(_) => Ok(None),
    }));
    outcome.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("panicked: {msg}"))
    })
}

// ------------------------------------------------------------------ in-process

#[test]
fn mutated_models_load_or_fail_cleanly() {
    let seeds = shipped_models();
    let mut r = rng(1);
    let cases = 6000 * scale();
    let (mut loaded, mut failures) = (0, Failures::default());
    for case in 0..cases {
        let (path, base) = seeds.choose(&mut r).unwrap();
        let mut text = base.clone();
        for _ in 0..r.random_range(1..=4) {
            text = mutate_yaml(&text, &mut r);
        }
        match check_model(&text, path) {
            Ok(m) => loaded += usize::from(m.is_some()),
            Err(what) => failures.add(case, &what, &text),
        }
    }
    eprintln!("{loaded} of {cases} mutated models loaded");
    failures.assert_none(cases);
    // Premise: the mutations leave some models valid, so the load path past the schema and
    // the compiler are exercised too, and reject most.
    assert!(
        loaded > cases / 20 && loaded < cases * 9 / 10,
        "{loaded} of {cases} mutated models loaded"
    );
}

#[test]
fn random_documents_load_or_fail_cleanly() {
    // Documents built from the schema's keys and hostile values, nested at random.
    fn node(r: &mut ChaCha8Rng, depth: usize, out: &mut String) {
        match r.random_range(0..if depth > 6 { 3 } else { 6 }) {
            0 => out.push_str(NUMBERS.choose(r).unwrap()),
            1 => out.push_str(WORDS.choose(r).unwrap()),
            2 => out.push_str(&format!("\"{}\"", KEYS.choose(r).unwrap())),
            3 | 4 => {
                out.push('{');
                for k in 0..r.random_range(0..4) {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(KEYS.choose(r).unwrap());
                    out.push_str(": ");
                    node(r, depth + 1, out);
                }
                out.push('}');
            }
            _ => {
                out.push('[');
                for k in 0..r.random_range(0..4) {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    node(r, depth + 1, out);
                }
                out.push(']');
            }
        }
    }
    let mut r = rng(2);
    let cases = 4000 * scale();
    let mut failures = Failures::default();
    let path = Path::new("random.yaml");
    for case in 0..cases {
        let mut text = String::new();
        if r.random_bool(0.7) {
            let _ = writeln!(text, "qubits: {}", r.random_range(1..6));
        }
        for _ in 0..r.random_range(0..6) {
            text.push_str(KEYS.choose(&mut r).unwrap());
            text.push_str(": ");
            node(&mut r, 1, &mut text);
            text.push('\n');
        }
        if let Err(what) = check_model(&text, path) {
            failures.add(case, &what, &text);
        }
    }
    failures.assert_none(cases);
}

/// The header and 12 rows of `data/iris.csv`, the seed of the CSV mutations.
fn iris_head() -> String {
    let text = std::fs::read_to_string(repo("data/iris.csv")).expect("data/iris.csv");
    let lines: Vec<&str> = text.lines().collect();
    // Rows of all three classes: the file is sorted by class.
    let mut out = String::new();
    for l in lines.iter().take(5).chain(lines.iter().skip(60).take(4)) {
        out.push_str(l);
        out.push('\n');
    }
    for l in lines.iter().skip(120).take(4) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// One random edit of a CSV text: the line edits of [`mutate_yaml`] plus CSV-specific ones
/// (fields added, removed or emptied, quotes, CR LF, a very long field, bytes that are not
/// UTF-8).
fn mutate_csv(text: &str, r: &mut ChaCha8Rng) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    lines.resize(n, String::new());
    let i = r.random_range(0..n);
    match r.random_range(0..9) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        2 => {
            let spans = number_spans(&lines[i]);
            if let Some(&(s, e)) = spans.choose(r) {
                let v = *[
                    "nan", "inf", "-inf", "1e308", "-1e308", "1e999", "", "x", "0x10", "1,2",
                ]
                .choose(r)
                .unwrap();
                lines[i].replace_range(s..e, v);
            }
        }
        3 => lines[i].push_str(",extra"),
        4 => {
            if let Some(c) = lines[i].rfind(',') {
                lines[i].truncate(c);
            }
        }
        5 => lines[i] = format!("\"{}\"", lines[i]),
        6 => lines[i].push('\r'),
        7 => lines.insert(i, "#".repeat(r.random_range(1..4)) + " comment"),
        _ => {
            let mut bytes = lines.join("\n").into_bytes();
            let at = r.random_range(0..=bytes.len());
            bytes.insert(at, *[0xff_u8, 0xc3, 0x00, b'\n'].choose(r).unwrap());
            return bytes;
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

#[test]
fn mutated_csv_datasets_load_or_fail_cleanly() {
    let dir = TempDir::new().unwrap();
    let csv = dir.path().join("data.csv");
    let model_path = dir.path().join("model.yaml");
    let base = iris_head();
    let models = [
        // One-hot over three classes, by name and by index.
        "qubits: 6\ninputs: [0, 1]\noutputs: [3, 4, 5]\ndataset:\n  csv: data.csv\n  features: [sepal_length, 1]\n  target: species\n",
        // One output, a numeric target, a test split.
        "qubits: 3\ninputs: [0, 1]\noutputs: [2]\nseed: 3\ndataset:\n  csv: data.csv\n  features: [0, petal_width]\n  target: 2\n  test_fraction: 0.3\n  encoding: {scale: [0, 1]}\n",
        // Two classes wanted: fails unless a mutation removed a class.
        "qubits: 2\ninputs: [0]\noutputs: [1]\ndataset: {csv: data.csv, features: [petal_length], target: species}\n",
    ];
    let mut r = rng(3);
    let cases = 1000 * scale();
    let (mut loaded, mut failures) = (0, Failures::default());
    for case in 0..cases {
        let mut bytes = base.clone().into_bytes();
        for _ in 0..r.random_range(1..=3) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            bytes = mutate_csv(&text, &mut r);
        }
        if r.random_ratio(1, 50) {
            // A line far beyond the line-length limit.
            bytes.extend(std::iter::repeat_n(b'7', (1 << 20) + 10));
        }
        std::fs::write(&csv, &bytes).unwrap();
        let model = models.choose(&mut r).unwrap();
        match check_model(model, &model_path) {
            Ok(m) => loaded += usize::from(m.is_some()),
            Err(what) => failures.add(case, &what, &String::from_utf8_lossy(&bytes)),
        }
    }
    eprintln!("{loaded} of {cases} mutated datasets loaded");
    failures.assert_none(cases);
    assert!(loaded > cases / 10, "{loaded} of {cases} datasets loaded");
}

/// Gates of `qelib1.inc` with their numbers of parameters and qubits.
const GATES: &[(&str, usize, usize)] = &[
    ("h", 0, 1),
    ("x", 0, 1),
    ("y", 0, 1),
    ("z", 0, 1),
    ("s", 0, 1),
    ("sdg", 0, 1),
    ("t", 0, 1),
    ("tdg", 0, 1),
    ("rx", 1, 1),
    ("ry", 1, 1),
    ("rz", 1, 1),
    ("u1", 1, 1),
    ("u2", 2, 1),
    ("u3", 3, 1),
    ("cx", 0, 2),
    ("cz", 0, 2),
    ("swap", 0, 2),
    ("rzz", 1, 2),
    ("ccx", 0, 3),
];

/// A random OpenQASM 2.0 program on `n` qubits: gates with random (sometimes out-of-range)
/// qubits, parameters as modest expressions, measurements, resets, conditions.
fn random_qasm(r: &mut ChaCha8Rng) -> String {
    let n = r.random_range(1..6);
    let mut s = format!("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[{n}];\ncreg c[{n}];\n");
    let qubit = |r: &mut ChaCha8Rng| {
        if r.random_ratio(1, 30) {
            n + r.random_range(0..3)
        } else {
            r.random_range(0..n)
        }
    };
    for _ in 0..r.random_range(0..25) {
        match r.random_range(0..10) {
            0 => {
                let q = qubit(r);
                let _ = writeln!(s, "measure q[{q}] -> c[{q}];");
            }
            1 => {
                let _ = writeln!(s, "reset q[{}];", qubit(r));
            }
            2 => s.push_str("barrier q;\n"),
            _ => {
                let &(g, np, nq) = GATES.choose(r).unwrap();
                if r.random_ratio(1, 8) {
                    let _ = write!(s, "if(c=={}) ", r.random_range(0..4));
                }
                s.push_str(g);
                if np > 0 {
                    let params: Vec<String> = (0..np).map(|_| expr(r, 0)).collect();
                    let _ = write!(s, "({})", params.join(","));
                }
                let qs: Vec<String> = (0..nq).map(|_| format!("q[{}]", qubit(r))).collect();
                let _ = writeln!(s, " {};", qs.join(","));
            }
        }
    }
    s
}

/// A parameter expression of depth at most 4 (deep nesting is the parser's own test).
fn expr(r: &mut ChaCha8Rng, depth: usize) -> String {
    if depth >= 4 || r.random_bool(0.5) {
        return [
            "pi", "0", "1", "-1", "0.5", "1e308", "1e-320", "2.5e3", "pi/2", "-pi",
        ]
        .choose(r)
        .unwrap()
        .to_string();
    }
    match r.random_range(0..4) {
        0 => format!("({})", expr(r, depth + 1)),
        1 => format!("-{}", expr(r, depth + 1)),
        2 => format!(
            "{}{}{}",
            expr(r, depth + 1),
            ["+", "-", "*", "/", "^"].choose(r).unwrap(),
            expr(r, depth + 1)
        ),
        _ => format!(
            "{}({})",
            ["sin", "cos", "tan", "exp", "ln", "sqrt"]
                .choose(r)
                .unwrap(),
            expr(r, depth + 1)
        ),
    }
}

/// One random edit of a QASM text: the line edits of [`mutate_yaml`] (which also change
/// numbers) plus deleted or doubled semicolons and brackets.
fn mutate_qasm(text: &str, r: &mut ChaCha8Rng) -> String {
    if r.random_bool(0.7) {
        return mutate_yaml(text, r);
    }
    let chars: Vec<char> = text.chars().collect();
    let marks: Vec<usize> = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, ';' | '[' | ']' | '(' | ')' | ','))
        .map(|(i, _)| i)
        .collect();
    let Some(&at) = marks.choose(r) else {
        return text.to_string();
    };
    let mut out = chars.clone();
    if r.random_bool(0.5) {
        out.remove(at);
    } else {
        out.insert(at, chars[at]);
    }
    out.into_iter().collect()
}

/// The shipped circuits, cut to their first 60 lines (enough for every statement kind, cheap
/// to parse thousands of times).
fn shipped_circuits() -> Vec<String> {
    let dir = PathBuf::from(repo("circuits"));
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .expect("circuits/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "qasm"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).expect("a shipped circuit is text");
            t.lines().take(60).collect::<Vec<_>>().join("\n") + "\n"
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "circuits/*.qasm are the seeds");
    v
}

#[test]
fn random_and_mutated_qasm_parses_or_fails_cleanly() {
    let seeds = shipped_circuits();
    let mut r = rng(4);
    let cases = 6000 * scale();
    let (mut parsed, mut failures) = (0, Failures::default());
    for case in 0..cases {
        let mut text = if r.random_bool(0.5) {
            random_qasm(&mut r)
        } else {
            seeds.choose(&mut r).unwrap().clone()
        };
        for _ in 0..r.random_range(0..=3) {
            text = mutate_qasm(&text, &mut r);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| qep::circuit::parse_qasm(&text)));
        match outcome {
            Ok(Ok(_)) => parsed += 1,
            Ok(Err(e)) if e.to_string().trim().is_empty() => {
                failures.add(case, &format!("empty error message ({e:?})"), &text)
            }
            Ok(Err(_)) => {}
            Err(_) => failures.add(case, "panicked", &text),
        }
    }
    eprintln!("{parsed} of {cases} programs parsed");
    failures.assert_none(cases);
    assert!(
        parsed > cases / 20 && parsed < cases,
        "{parsed} of {cases} programs parsed"
    );
}

// ------------------------------------------------------------------ through the binary

/// Runs `qep args…` in `cwd` under the timeout and memory cap; `Err` names a broken property:
/// a signal or a hang (no exit code), an exit code other than 0 and 1, a panic, or exit 1
/// without an `error: …` message.
fn check_cli(args: &[String], cwd: &Path) -> Result<i32, String> {
    let out = qep()
        .args(args)
        .current_dir(cwd)
        .env("QEP_MEMORY_LIMIT", CHILD_MEMORY)
        .env("RAYON_NUM_THREADS", "1")
        .timeout(CHILD_TIMEOUT)
        .output()
        .map_err(|e| format!("qep did not start: {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    let what = match code {
        None => Some(format!(
            "killed by a signal or by the {CHILD_TIMEOUT:?} timeout"
        )),
        Some(c) if c != 0 && c != 1 => Some(format!("exit code {c}")),
        _ if err.contains("panicked") => Some("panicked".to_string()),
        Some(1) if !err.starts_with("error: ") || err.trim().len() <= "error:".len() => {
            Some("exit 1 without an `error: …` message".to_string())
        }
        _ => None,
    };
    match what {
        Some(w) => Err(format!("{w}; stderr: {}", head(&err, 600))),
        None => Ok(code.unwrap_or(-1)),
    }
}

/// A subcommand as `qep <path> -h` describes it: its options (name, takes a value, possible
/// values) and whether it takes a FILE argument (required or optional).
struct Subcommand {
    path: Vec<String>,
    options: Vec<(String, bool, Vec<String>)>,
    file: Option<bool>,
}

/// Every subcommand of the binary, read from its help (so that new commands and flags are
/// fuzzed without editing this file).
fn subcommands() -> Vec<Subcommand> {
    fn help(path: &[String]) -> String {
        let out = qep().args(path).arg("-h").output().expect("qep -h runs");
        assert!(out.status.success(), "qep {path:?} -h fails");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn commands(h: &str) -> Vec<String> {
        h.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect()
    }
    let mut out = Vec::new();
    let mut todo: Vec<Vec<String>> = commands(&help(&[])).into_iter().map(|c| vec![c]).collect();
    while let Some(path) = todo.pop() {
        let h = help(&path);
        let subs = commands(&h);
        if !subs.is_empty() {
            todo.extend(subs.into_iter().map(|c| {
                let mut p = path.clone();
                p.push(c);
                p
            }));
            continue;
        }
        let usage = h.lines().find(|l| l.starts_with("Usage:")).unwrap_or("");
        let file = if usage.contains("<FILE>") {
            Some(true)
        } else if usage.contains("[FILE]") {
            Some(false)
        } else {
            None
        };
        let mut options = Vec::new();
        for l in h.lines() {
            let t = l.trim_start();
            let t = t.strip_prefix("-h, ").unwrap_or(t);
            let t = if t.len() > 4 && t.starts_with('-') && t.as_bytes()[2] == b',' {
                &t[4..]
            } else {
                t
            };
            let Some(rest) = t.strip_prefix("--") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-')
                .collect();
            if name == "help" || name.is_empty() {
                continue;
            }
            let takes_value =
                rest[name.len()..].starts_with(" <") || rest[name.len()..].starts_with('=');
            let possible = l
                .split("[possible values: ")
                .nth(1)
                .and_then(|p| p.split(']').next())
                .map(|p| p.split(", ").map(str::to_string).collect())
                .unwrap_or_default();
            options.push((name, takes_value, possible));
        }
        out.push(Subcommand {
            path,
            options,
            file,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Values for a flag: small numbers (so that commands stay fast), hostile numbers that a
/// parser or a range check must refuse, malformed lists and ranges, paths.
const FLAG_VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "0.5",
    "-0.5",
    "1e-3",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "abc",
    "",
    "1,2",
    "0.1,0.2",
    "2..4",
    "4..2",
    "2..6:2",
    "0..4:0",
    "Z0",
    "Z0,Z0 Z1",
    "X0X1",
    "plus",
    "zero",
    "basis:1",
    "basis:99",
    "linear",
    "mtx",
    "json",
    "/dev/null",
    "out/x",
];

#[test]
fn cli_commands_exit_0_or_1_with_a_message() {
    let dir = TempDir::new().unwrap();
    let tiny = net3_model(dir.path());
    // A model with a Lindblad section, temperature and adiabatic settings, still 3 qubits.
    let rich = dir.path().join("rich.yaml");
    std::fs::write(
        &rich,
        "qubits: 3\ninputs: [0]\noutputs: [2]\ntemperature: 0.5\nbeta: 0.01\nterms:\n  - {pauli: \"X0\", coeff: -1.0}\n  - {pauli: \"X1\", coeff: -0.8}\nparams:\n  - {pauli: \"Z0 Z1\", value: 0.7}\n  - {pauli: \"Z1 Z2\", value: -0.5}\npreparation: {adiabatic: {time: 2, steps: 10}}\nlindblad: {jumps: [{op: sigma-, rate: 0.1}]}\ndataset:\n  inputs: [[0.4], [-0.4]]\n  targets: [[1], [-1]]\ntraining: {epochs: 2}\n",
    )
    .unwrap();
    let qasm = dir.path().join("bell.qasm");
    std::fs::write(
        &qasm,
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n",
    )
    .unwrap();
    let subs = subcommands();
    assert!(
        subs.len() >= 13,
        "every subcommand is found: {}",
        subs.len()
    );

    let mut r = rng(5);
    let cases = 150 * scale();
    let (mut ok, mut failures) = (0, Failures::default());
    for case in 0..cases {
        // Every subcommand in turn, then random ones.
        let sub = if case < subs.len() {
            &subs[case]
        } else {
            subs.choose(&mut r).unwrap()
        };
        let mut args: Vec<String> = sub.path.clone();
        let is_circuit = sub.path.iter().any(|p| p == "circuit");
        if let Some(required) = sub.file {
            if required || r.random_bool(0.7) {
                let f = if r.random_ratio(1, 10) {
                    // Not a model: nothing, a device, a directory, a file of the other kind.
                    ["missing.yaml", "/dev/null", ".", "bell.qasm", "net3.yaml"]
                        .choose(&mut r)
                        .unwrap()
                        .to_string()
                } else if is_circuit {
                    qasm.display().to_string()
                } else if r.random_bool(0.5) {
                    tiny.display().to_string()
                } else {
                    rich.display().to_string()
                };
                args.push(f);
            }
        }
        for _ in 0..r.random_range(0..4) {
            let Some((name, takes, possible)) = sub.options.choose(&mut r) else {
                break;
            };
            args.push(format!("--{name}"));
            if *takes {
                let v = match possible.choose(&mut r) {
                    Some(p) if r.random_bool(0.6) => p.clone(),
                    _ => FLAG_VALUES.choose(&mut r).unwrap().to_string(),
                };
                args.push(v);
            }
        }
        if r.random_ratio(1, 10) {
            args.push("--no-such-flag".to_string());
        }
        match check_cli(&args, dir.path()) {
            Ok(0) => ok += 1,
            Ok(_) => {}
            Err(what) => failures.add(case, &what, &format!("qep {}", args.join(" "))),
        }
    }
    eprintln!("{ok} of {cases} command lines succeeded");
    failures.assert_none(cases);
    assert!(
        ok >= subs.len() / 2,
        "only {ok} of {cases} command lines succeeded"
    );
}

#[test]
fn mutated_files_through_the_binary_exit_0_or_1() {
    // The models go to `hamiltonians/` beside a link to the repository's `data/`, so that the
    // relative CSV path of `iris.yaml` still resolves.
    let dir = TempDir::new().unwrap();
    let models = dir.path().join("hamiltonians");
    std::fs::create_dir(&models).unwrap();
    std::os::unix::fs::symlink(repo("data"), dir.path().join("data")).unwrap();
    let seeds = shipped_models();
    let circuits = shipped_circuits();
    let mut r = rng(6);
    let cases = 80 * scale();
    let mut failures = Failures::default();
    for case in 0..cases {
        let (args, text) = if case % 4 == 3 {
            let mut text = if r.random_bool(0.5) {
                random_qasm(&mut r)
            } else {
                circuits.choose(&mut r).unwrap().clone()
            };
            for _ in 0..r.random_range(0..=2) {
                text = mutate_qasm(&text, &mut r);
            }
            let f = dir.path().join(format!("c{case}.qasm"));
            std::fs::write(&f, &text).unwrap();
            let args = vec![
                "circuit".to_string(),
                "run".to_string(),
                f.display().to_string(),
                "--shots".to_string(),
                "16".to_string(),
            ];
            (args, text)
        } else {
            let (_, base) = seeds.choose(&mut r).unwrap();
            let mut text = base.clone();
            for _ in 0..r.random_range(1..=3) {
                text = mutate_yaml(&text, &mut r);
            }
            let f = models.join(format!("m{case}.yaml"));
            std::fs::write(&f, &text).unwrap();
            let cmd = if case % 2 == 0 { "info" } else { "spectrum" };
            let mut args = vec![cmd.to_string(), f.display().to_string()];
            if cmd == "spectrum" {
                args.extend(["--k".to_string(), "1".to_string()]);
            }
            (args, text)
        };
        if let Err(what) = check_cli(&args, dir.path()) {
            failures.add(case, &what, &format!("qep {}\n{text}", args.join(" ")));
        }
    }
    failures.assert_none(cases);
}
