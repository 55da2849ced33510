//! OpenQASM 2 export.

use std::fmt::Write;

use crate::circuit::ir::{Circuit, Op, Register};

/// Writes `circuit` as OpenQASM 2.0: its registers (or one `q[qubits]` and, if there are
/// classical bits, one `c[clbits]`), one line per op, conditions as `if (reg == k)` (a
/// condition must cover one whole register). Angles are written with Rust's shortest
/// round-trip formatting, so [`parse_qasm`](super::parse_qasm) gives back the same ops bit for bit (`u2`, `U`
/// and `u` come back as `u3`, `p` as `u1`).
pub fn to_qasm(circuit: &Circuit) -> String {
    let mut s = String::from("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    let qregs = if circuit.qregs.is_empty() {
        vec![Register {
            name: "q".into(),
            start: 0,
            size: circuit.qubits,
        }]
    } else {
        circuit.qregs.clone()
    };
    let cregs = circuit.creg_layout();
    for r in &qregs {
        let _ = writeln!(s, "qreg {}[{}];", r.name, r.size);
    }
    for r in &cregs {
        let _ = writeln!(s, "creg {}[{}];", r.name, r.size);
    }
    let name_of = |regs: &[Register], i: usize| {
        regs.iter()
            .find(|r| (r.start..r.start + r.size).contains(&i))
            .map(|r| format!("{}[{}]", r.name, i - r.start))
            .unwrap_or_else(|| format!("q[{i}]"))
    };
    for op in &circuit.ops {
        if let Some(c) = op.cond() {
            let reg = cregs
                .iter()
                .find(|r| r.start == c.start && r.size == c.len)
                .map_or("c", |r| r.name.as_str());
            let _ = write!(s, "if ({reg} == {}) ", c.value);
        }
        let _ = match op {
            Op::Gate { gate, qubits, .. } => {
                let p = gate.params();
                let head = if p.is_empty() {
                    gate.name().to_string()
                } else {
                    let list: Vec<String> = p.iter().map(|x| format!("{x}")).collect();
                    format!("{}({})", gate.name(), list.join(","))
                };
                let qs: Vec<String> = qubits.iter().map(|&q| name_of(&qregs, q)).collect();
                writeln!(s, "{head} {};", qs.join(","))
            }
            Op::Measure { q, c, .. } => writeln!(
                s,
                "measure {} -> {};",
                name_of(&qregs, *q),
                name_of(&cregs, *c)
            ),
            Op::Reset { q, .. } => writeln!(s, "reset {};", name_of(&qregs, *q)),
        };
    }
    s
}
