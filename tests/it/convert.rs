//! `qep convert`: Pauli sums between Qiskit JSON, OpenFermion text and qep YAML.

use std::path::Path;

use qep::hamiltonian::convert::{self, ConvertLimits, PauliFormat};
use qep::pauli::{PauliString, PauliSum};
use qep::scalar::C64;

use crate::common::{fails, json_of, model, qep};

/// The terms of a sum as `(label, re, im)`, in order.
fn terms(sum: &PauliSum) -> Vec<(String, f64, f64)> {
    sum.terms()
        .iter()
        .map(|(p, c)| (p.label(), c.re, c.im))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write input");
    p.display().to_string()
}

#[test]
fn qiskit_labels_put_qubit_zero_rightmost_and_merge_duplicates() {
    let text = r#"[["IXZ", 0.5], ["YII", [0.25, -0.5]], ["IXZ", 1], ["III", -2.0]]"#;
    let sum = convert::parse_qiskit_json(text, Path::new("h.json"), &ConvertLimits::default())
        .expect("valid");
    assert_eq!(sum.qubits(), 3);
    assert_eq!(
        terms(&sum),
        vec![
            ("Z0 X1".to_string(), 1.5, 0.0),
            ("Y2".to_string(), 0.25, -0.5),
            ("I".to_string(), -2.0, 0.0),
        ]
    );
    // And back: the labels Qiskit wrote, complex coefficients as [re, im].
    let back = convert::qiskit_json(&sum);
    let v: serde_json::Value = serde_json::from_str(&back).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!([["IXZ", 1.5], ["YII", [0.25, -0.5]], ["III", -2.0]])
    );
}

#[test]
fn openfermion_text_as_python_prints_it() {
    let text = "0.5 [X0 Z3] +\n-0.25 [Y1] +\n(1e-05+0j) [] +\n(0.5-2j) [Z2] +\n0.25j [X1]\n";
    let sum = convert::parse_openfermion(text, Path::new("h.txt"), &ConvertLimits::default())
        .expect("valid");
    assert_eq!(sum.qubits(), 4);
    assert_eq!(
        terms(&sum),
        vec![
            ("X0 Z3".to_string(), 0.5, 0.0),
            ("Y1".to_string(), -0.25, 0.0),
            ("I".to_string(), 1e-5, 0.0),
            ("Z2".to_string(), 0.5, -2.0),
            ("X1".to_string(), 0.0, 0.25),
        ]
    );
    let again = convert::parse_openfermion(
        &convert::openfermion_text(&sum),
        Path::new("h.txt"),
        &ConvertLimits::default(),
    )
    .expect("own output parses");
    assert_eq!(again, sum);
    // Separators without line breaks, a minus between terms, a bare coefficient-less term.
    let inline = "0.5 [X0] - 0.25 [Z1] + [Y2]";
    let s = convert::parse_openfermion(inline, Path::new("h.txt"), &ConvertLimits::default())
        .expect("valid");
    assert_eq!(
        terms(&s),
        vec![
            ("X0".to_string(), 0.5, 0.0),
            ("Z1".to_string(), -0.25, 0.0),
            ("Y2".to_string(), 1.0, 0.0),
        ]
    );
}

#[test]
fn yaml_round_trip_keeps_every_term_and_coefficient_bit_for_bit() {
    let mut sum = PauliSum::new(5);
    for (label, c) in [
        ("X0 X1", 0.1),
        ("Z3 Z4", -1.0 / 3.0),
        ("Y2", 1e-7),
        ("I", 2.5e9),
        ("X0 Y1 Z2 X3 Y4", -0.0),
    ] {
        sum.add(PauliString::parse(label).expect("label"), C64::new(c, 0.0));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("h.yaml");
    let text = convert::yaml_text(&sum, "a header", &out).expect("writes");
    std::fs::write(&out, &text).expect("write");
    let back = convert::read(&out, PauliFormat::Yaml, &ConvertLimits::default()).expect("reads");
    let mut want = terms(&sum);
    let mut got = terms(&back.sum);
    want.sort_by(|a, b| a.0.cmp(&b.0));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    // The model drops exact zeros when it merges terms; every other term is bit for bit.
    want.retain(|t| t.1 != 0.0);
    assert_eq!(got, want);
    assert_eq!(back.sum.qubits(), 5);
}

#[test]
fn cli_round_trip_through_all_three_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let src = model("xor.yaml");
    let of = d.join("xor.txt").display().to_string();
    let js = d.join("xor.json").display().to_string();
    let ym = d.join("xor.yaml").display().to_string();
    let r1 = json_of(qep().args(["convert", &src, &of, "--json"]));
    assert_eq!(r1["from"], "yaml");
    assert_eq!(r1["to"], "openfermion");
    assert_eq!(r1["qubits"], 5);
    assert!(r1["params_at_theta"].as_u64().expect("count") > 0, "{r1}");
    let sha = &r1["input_sha256"];
    assert_eq!(sha.as_str().map(str::len), Some(64), "{r1}");
    let r2 = json_of(qep().args(["convert", &of, &js, "--qubits", "5", "--json"]));
    let r3 = json_of(qep().args(["convert", &js, &ym, "--json"]));
    assert_eq!(r2["terms"], r1["terms"]);
    assert_eq!(r3["terms"], r1["terms"]);
    assert_eq!(r3["qubits"], 5);
    // The converted model is the original's H at θ, term for term.
    let orig = convert::read(
        Path::new(&src),
        PauliFormat::Yaml,
        &ConvertLimits::default(),
    )
    .expect("model");
    let back = convert::read(Path::new(&ym), PauliFormat::Yaml, &ConvertLimits::default())
        .expect("converted");
    let mut a = terms(&orig.sum);
    let mut b = terms(&back.sum);
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a, b);
    // The converted file is a model every command reads: its spectrum is the original's.
    let e1 = json_of(qep().args(["spectrum", &src, "-k", "2", "--json"]));
    let e2 = json_of(qep().args(["spectrum", &ym, "-k", "2", "--json"]));
    let (x, y) = (&e1["energies"], &e2["energies"]);
    for k in 0..2 {
        let (u, v) = (x[k].as_f64().expect("E"), y[k].as_f64().expect("E"));
        assert!((u - v).abs() < 1e-9, "{u} vs {v}");
    }
}

#[test]
fn bad_inputs_fail_with_their_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = d.join("o.yaml").display().to_string();
    let cases = [
        (
            "bad.json",
            r#"[["IXZ", 0.5], ["IQZ", 1.0]]"#,
            "entry [1]: label \"IQZ\" has letter `Q`",
        ),
        (
            "width.json",
            r#"[["IXZ", 0.5], ["XZ", 1.0]]"#,
            "entry [1]: label \"XZ\" has 2 letters, entry [0] has 3",
        ),
        ("syntax.json", "[[\"IX\", 0.5],\n  [\"XI\" 1]]", "bad.json"),
        (
            "bad.txt",
            "0.5 [X0 Z3] +\n-0.25 [Y1 Q2]\n",
            "bad.txt:2:11: bad factor `Q2`",
        ),
        (
            "coeff.txt",
            "0.5 [X0] +\n  abc [Y1]\n",
            "coeff.txt:2:3: bad coefficient `abc`",
        ),
        (
            "twice.of",
            "0.5 [X0 Z0]\n",
            "twice.of:1:9: qubit 0 appears twice in one term",
        ),
    ];
    for (name, text, want) in cases {
        let input = write(d, name, text);
        let err = fails(qep().args(["convert", &input, &out]));
        let want = if name == "syntax.json" {
            "syntax.json:2:9: not JSON (expected `,` or `]`)"
        } else {
            want
        };
        assert!(err.contains(want), "{name}: {err}");
        assert!(!Path::new(&out).exists(), "{name}: no output on failure");
    }
    // Complex coefficients have no place in a (Hermitian) qep model.
    let input = write(d, "complex.json", r#"[["ZI", [1.0, 0.5]]]"#);
    let err = fails(qep().args(["convert", &input, &out]));
    assert!(err.contains("term `Z1` has coefficient 1 +0.5i"), "{err}");
    // An existing output is kept unless --overwrite; an unknown extension needs --to.
    let ok = write(d, "ok.json", r#"[["ZI", 1.0]]"#);
    std::fs::write(&out, "keep").expect("write");
    let err = fails(qep().args(["convert", &ok, &out]));
    assert!(err.contains("exists; expected --overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "keep");
    qep()
        .args(["convert", &ok, &out, "--overwrite"])
        .assert()
        .success();
    let odd = d.join("h.dat").display().to_string();
    let err = fails(qep().args(["convert", &ok, &odd]));
    assert!(err.contains("--to qiskit|openfermion|yaml"), "{err}");
    let err = fails(qep().args(["convert", &ok, &odd, "--to", "yaml", "--qubits", "1"]));
    assert!(
        err.contains("1 qubits requested, but the operator acts on 2"),
        "{err}"
    );
}

#[test]
fn limits_bound_what_is_read() {
    let limits = ConvertLimits {
        max_bytes: 1 << 20,
        max_terms: 3,
    };
    let text = "1 [X0] + 1 [X1] + 1 [X2] + 1 [X3]";
    let err = convert::parse_openfermion(text, Path::new("h.txt"), &limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "h.txt: more than 3 terms; expected at most 3"
    );
    let text = r#"[["X", 1], ["Y", 1], ["Z", 1], ["I", 1]]"#;
    let err = convert::parse_qiskit_json(text, Path::new("h.json"), &limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "h.json: more than 3 terms; expected at most 3"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "1 [X0] + ".repeat(200)).expect("write");
    let small = ConvertLimits {
        max_bytes: 1000,
        max_terms: 10,
    };
    let err = convert::read(&big, PauliFormat::OpenFermion, &small).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}
