//! The op list every front end lowers to and every pass and executor reads: a [`Circuit`] is
//! a qubit count, classical registers and a flat list of [`Op`]s (gate + qubits + optional
//! classical condition, measurement, reset). Passes take an op list and return one.

/// A named register: bits `start..start + size` of the circuit's flat qubit or clbit range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    /// Its name in the source.
    pub name: String,
    /// First flat index.
    pub start: usize,
    /// Number of bits.
    pub size: usize,
}

/// `if (bits == value)`: the classical bits `start..start + len`, read as an integer with bit
/// `start` least significant, equal `value` (OpenQASM 2 `if (c == k)` on a whole register;
/// OpenQASM 3 also on one bit). Bits past the 64th must be 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Condition {
    /// First classical bit.
    pub start: usize,
    /// Number of bits compared.
    pub len: usize,
    /// The value they must hold.
    pub value: u64,
}

impl Condition {
    /// Whether the classical bits `bits` (bit `j` of word `j / 64` = clbit `j`) satisfy it.
    pub fn holds(&self, bits: &[u64]) -> bool {
        (0..self.len).all(|k| {
            let j = self.start + k;
            let bit = bits.get(j / 64).is_some_and(|w| w >> (j % 64) & 1 == 1);
            let want = k < 64 && self.value >> k & 1 == 1;
            bit == want
        }) && (self.len >= 64 || self.value >> self.len == 0)
    }
}

use super::gates::Gate;

/// One instruction of a [`Circuit`].
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A unitary gate on `qubits` (controls first, [`Gate::num_qubits`] of them, distinct).
    Gate {
        /// The gate.
        gate: Gate,
        /// Its qubits, in the gate's argument order.
        qubits: Vec<usize>,
        /// Applied only if this holds.
        cond: Option<Condition>,
    },
    /// Measure qubit `q` in the Z basis (collapsing the state) into classical bit `c`.
    Measure {
        /// Measured qubit.
        q: usize,
        /// Classical bit written (0 for outcome `|0⟩`, 1 for `|1⟩`).
        c: usize,
        /// Done only if this holds.
        cond: Option<Condition>,
    },
    /// Reset qubit `q` to `|0⟩` (measure, then flip if the outcome was 1).
    Reset {
        /// The qubit.
        q: usize,
        /// Done only if this holds.
        cond: Option<Condition>,
    },
}

impl Op {
    /// The op's classical condition, if any.
    pub fn cond(&self) -> Option<&Condition> {
        match self {
            Op::Gate { cond, .. } | Op::Measure { cond, .. } | Op::Reset { cond, .. } => {
                cond.as_ref()
            }
        }
    }

    /// Whether the op acts on qubit `q`.
    pub fn touches(&self, q: usize) -> bool {
        match self {
            Op::Gate { qubits, .. } => qubits.contains(&q),
            Op::Measure { q: p, .. } | Op::Reset { q: p, .. } => *p == q,
        }
    }
}

/// A circuit on `qubits` qubits and `clbits` classical bits.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Circuit {
    /// Number of qubits.
    pub qubits: usize,
    /// Number of classical bits.
    pub clbits: usize,
    /// The instructions, in order.
    pub ops: Vec<Op>,
    /// Quantum registers in declaration order (empty for circuits built in code: one `q`).
    pub qregs: Vec<Register>,
    /// Classical registers in declaration order (empty for circuits built in code: one `c`).
    pub cregs: Vec<Register>,
}

impl Circuit {
    /// An empty circuit.
    pub fn new(qubits: usize, clbits: usize) -> Self {
        Self {
            qubits,
            clbits,
            ..Self::default()
        }
    }

    /// Appends `gate` on `qubits`.
    ///
    /// # Panics
    /// If the qubit count does not match the gate, a qubit is out of range or repeated (a
    /// caller bug).
    #[track_caller]
    pub fn gate(&mut self, gate: Gate, qubits: &[usize]) -> &mut Self {
        assert_eq!(gate.num_qubits(), qubits.len(), "{gate:?} on {qubits:?}");
        for (k, &q) in qubits.iter().enumerate() {
            assert!(
                q < self.qubits,
                "qubit {q} out of range ({} qubits)",
                self.qubits
            );
            assert!(!qubits[..k].contains(&q), "{gate:?} on qubit {q} twice");
        }
        self.ops.push(Op::Gate {
            gate,
            qubits: qubits.to_vec(),
            cond: None,
        });
        self
    }

    /// Appends a one-qubit gate.
    ///
    /// # Panics
    /// As [`Circuit::gate`].
    #[track_caller]
    pub fn gate1(&mut self, gate: Gate, q: usize) -> &mut Self {
        self.gate(gate, &[q])
    }

    /// Appends a two-qubit gate on `(a, b)`; `a` is the control of controlled gates.
    ///
    /// # Panics
    /// As [`Circuit::gate`].
    #[track_caller]
    pub fn gate2(&mut self, gate: Gate, a: usize, b: usize) -> &mut Self {
        self.gate(gate, &[a, b])
    }

    /// Appends a measurement of qubit `q` into classical bit `c`.
    ///
    /// # Panics
    /// If `q` or `c` is out of range.
    #[track_caller]
    pub fn measure(&mut self, q: usize, c: usize) -> &mut Self {
        assert!(
            q < self.qubits && c < self.clbits,
            "measure {q} -> {c} out of range"
        );
        self.ops.push(Op::Measure { q, c, cond: None });
        self
    }

    /// Appends a reset of qubit `q`.
    ///
    /// # Panics
    /// If `q` is out of range.
    #[track_caller]
    pub fn reset(&mut self, q: usize) -> &mut Self {
        assert!(q < self.qubits, "qubit {q} out of range");
        self.ops.push(Op::Reset { q, cond: None });
        self
    }

    /// Whether the circuit measures anything.
    pub fn has_measurements(&self) -> bool {
        self.ops.iter().any(|op| matches!(op, Op::Measure { .. }))
    }

    /// Whether every measurement is final and nothing is classically controlled: no reset, no
    /// condition, and no op acts on a qubit after it has been measured. Such a circuit's shots
    /// can all be drawn from one final distribution.
    pub fn measurements_are_final(&self) -> bool {
        let mut measured = vec![false; self.qubits];
        for op in &self.ops {
            if op.cond().is_some() {
                return false;
            }
            match op {
                Op::Reset { .. } => return false,
                Op::Measure { q, .. } => measured[*q] = true,
                Op::Gate { qubits, .. } if qubits.iter().any(|&q| measured[q]) => return false,
                _ => {}
            }
        }
        true
    }

    /// The classical registers for printing: the declared ones, or one register `c` over all
    /// classical bits for circuits built in code.
    pub fn creg_layout(&self) -> Vec<Register> {
        if self.cregs.is_empty() && self.clbits > 0 {
            vec![Register {
                name: "c".into(),
                start: 0,
                size: self.clbits,
            }]
        } else {
            self.cregs.clone()
        }
    }
}

/// Splits `ops` into a body and its deferrable final measurements: a measurement is moved to
/// the tail when no later op touches its qubit, writes its classical bit or reads it in a
/// condition. The tail's outcomes can then be drawn from the body's final state (one draw per
/// shot) instead of collapsing the state. Returns `(body, tail)`, tail in program order.
pub fn split_final_measurements(ops: &[Op]) -> (Vec<Op>, Vec<(usize, usize)>) {
    let mut tail = Vec::new();
    let mut body_rev = Vec::new();
    // Scanning backwards: qubits touched and clbits written or read by ops kept in the body.
    let mut touched = std::collections::HashSet::new();
    let mut clbit_used = std::collections::HashSet::new();
    let mut cond_ranges: Vec<(usize, usize)> = Vec::new();
    for op in ops.iter().rev() {
        match op {
            Op::Measure { q, c, cond: None }
                if !touched.contains(q)
                    && !clbit_used.contains(c)
                    && !cond_ranges.iter().any(|&(s, l)| (s..s + l).contains(c)) =>
            {
                tail.push((*q, *c));
                // A later (already tailed) measurement into the same clbit wins: an earlier
                // one into it must not be tailed after it.
                clbit_used.insert(*c);
            }
            _ => {
                if let Some(cd) = op.cond() {
                    cond_ranges.push((cd.start, cd.len));
                }
                match op {
                    Op::Gate { qubits, .. } => touched.extend(qubits.iter().copied()),
                    Op::Measure { q, c, .. } => {
                        touched.insert(*q);
                        clbit_used.insert(*c);
                    }
                    Op::Reset { q, .. } => {
                        touched.insert(*q);
                    }
                }
                body_rev.push(op.clone());
            }
        }
    }
    body_rev.reverse();
    tail.reverse();
    (body_rev, tail)
}
