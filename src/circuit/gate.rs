//! The gate set (qelib1.inc names) and each gate's explicit matrix.
//!
//! Matrix convention (docs/DESIGN.md: qubit i = bit i): a two-qubit gate applied to the qubit pair
//! `(a, b)` has the 4×4 matrix indexed by `bit_a + 2·bit_b`, so for [`Gate::Cx`] `a` is the
//! control and `b` the target: `CX|bit_a = 1, bit_b⟩ = |1, bit_b ⊕ 1⟩`.

use std::f64::consts::FRAC_1_SQRT_2;

use crate::C64;

/// A 2×2 complex matrix, row-major: `m[row][col]`.
pub type Matrix2 = [[C64; 2]; 2];
/// A 4×4 complex matrix, row-major, indexed by `bit_a + 2·bit_b` for a gate on `(a, b)`.
pub type Matrix4 = [[C64; 4]; 4];

/// A unitary gate of the supported set. Angles are in radians.
///
/// Rotations are `R_P(θ) = exp(−iθP/2)` (Qiskit's `RXGate`, …; qelib1's `rz` differs from
/// this `RZ` by the global phase `e^{iθ/2}`). [`Gate::U`] is qelib1's `u3`:
/// `u3(θ,φ,λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]]`, with
/// `u2(φ,λ) = u3(π/2,φ,λ)` and `u1(λ) = u3(0,0,λ) = diag(1, e^{iλ})` exactly (no extra phase).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gate {
    /// Hadamard `(X + Z)/√2`.
    H,
    /// Pauli X.
    X,
    /// Pauli Y.
    Y,
    /// Pauli Z.
    Z,
    /// `S = diag(1, i)`.
    S,
    /// `S† = diag(1, −i)`.
    Sdg,
    /// `T = diag(1, e^{iπ/4})`.
    T,
    /// `T† = diag(1, e^{−iπ/4})`.
    Tdg,
    /// `RX(θ) = exp(−iθX/2)`.
    Rx(f64),
    /// `RY(θ) = exp(−iθY/2)`.
    Ry(f64),
    /// `RZ(θ) = exp(−iθZ/2) = diag(e^{−iθ/2}, e^{iθ/2})`.
    Rz(f64),
    /// `u3(θ, φ, λ)` (also `U`, `u2`, `u1` of qelib1.inc).
    U(f64, f64, f64),
    /// Controlled X, first qubit the control.
    Cx,
    /// Controlled Z (symmetric).
    Cz,
    /// Swap of the two qubits.
    Swap,
    /// `RXX(θ) = exp(−iθ X⊗X/2)`.
    Rxx(f64),
    /// `RYY(θ) = exp(−iθ Y⊗Y/2)`.
    Ryy(f64),
    /// `RZZ(θ) = exp(−iθ Z⊗Z/2)`.
    Rzz(f64),
}

fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

/// `e^{iφ}`.
fn cis(phi: f64) -> C64 {
    C64::from_polar(1.0, phi)
}

impl Gate {
    /// Number of qubits the gate acts on (1 or 2).
    pub fn arity(self) -> usize {
        match self {
            Gate::Cx | Gate::Cz | Gate::Swap | Gate::Rxx(_) | Gate::Ryy(_) | Gate::Rzz(_) => 2,
            _ => 1,
        }
    }

    /// The qelib1.inc name used by the QASM export (`u3` for [`Gate::U`]).
    pub fn name(self) -> &'static str {
        match self {
            Gate::H => "h",
            Gate::X => "x",
            Gate::Y => "y",
            Gate::Z => "z",
            Gate::S => "s",
            Gate::Sdg => "sdg",
            Gate::T => "t",
            Gate::Tdg => "tdg",
            Gate::Rx(_) => "rx",
            Gate::Ry(_) => "ry",
            Gate::Rz(_) => "rz",
            Gate::U(..) => "u3",
            Gate::Cx => "cx",
            Gate::Cz => "cz",
            Gate::Swap => "swap",
            Gate::Rxx(_) => "rxx",
            Gate::Ryy(_) => "ryy",
            Gate::Rzz(_) => "rzz",
        }
    }

    /// The gate's angle parameters, in QASM order (empty for fixed gates).
    pub fn params(self) -> Vec<f64> {
        match self {
            Gate::Rx(t)
            | Gate::Ry(t)
            | Gate::Rz(t)
            | Gate::Rxx(t)
            | Gate::Ryy(t)
            | Gate::Rzz(t) => {
                vec![t]
            }
            Gate::U(t, p, l) => vec![t, p, l],
            _ => Vec::new(),
        }
    }

    /// The 2×2 matrix of a one-qubit gate.
    ///
    /// # Panics
    /// If the gate acts on two qubits.
    #[track_caller]
    pub fn matrix2(self) -> Matrix2 {
        let o = c(0.0, 0.0);
        let l = c(1.0, 0.0);
        let h = FRAC_1_SQRT_2;
        match self {
            Gate::H => [[c(h, 0.0), c(h, 0.0)], [c(h, 0.0), c(-h, 0.0)]],
            Gate::X => [[o, l], [l, o]],
            Gate::Y => [[o, c(0.0, -1.0)], [c(0.0, 1.0), o]],
            Gate::Z => [[l, o], [o, -l]],
            Gate::S => [[l, o], [o, c(0.0, 1.0)]],
            Gate::Sdg => [[l, o], [o, c(0.0, -1.0)]],
            Gate::T => [[l, o], [o, cis(std::f64::consts::FRAC_PI_4)]],
            Gate::Tdg => [[l, o], [o, cis(-std::f64::consts::FRAC_PI_4)]],
            Gate::Rx(t) => {
                let (s, k) = (t / 2.0).sin_cos();
                [[c(k, 0.0), c(0.0, -s)], [c(0.0, -s), c(k, 0.0)]]
            }
            Gate::Ry(t) => {
                let (s, k) = (t / 2.0).sin_cos();
                [[c(k, 0.0), c(-s, 0.0)], [c(s, 0.0), c(k, 0.0)]]
            }
            Gate::Rz(t) => [[cis(-t / 2.0), o], [o, cis(t / 2.0)]],
            Gate::U(t, p, lam) => {
                let (s, k) = (t / 2.0).sin_cos();
                [[c(k, 0.0), -cis(lam) * s], [cis(p) * s, cis(p + lam) * k]]
            }
            _ => panic!("{self:?} is a two-qubit gate"),
        }
    }

    /// The 4×4 matrix of a two-qubit gate on `(a, b)`, indexed by `bit_a + 2·bit_b`.
    ///
    /// # Panics
    /// If the gate acts on one qubit.
    #[track_caller]
    pub fn matrix4(self) -> Matrix4 {
        let o = c(0.0, 0.0);
        let l = c(1.0, 0.0);
        let mut m = [[o; 4]; 4];
        match self {
            Gate::Cx => {
                // |a=1, b⟩ → |1, b⊕1⟩: index 1 ↔ 3.
                m[0][0] = l;
                m[2][2] = l;
                m[1][3] = l;
                m[3][1] = l;
            }
            Gate::Cz => {
                m[0][0] = l;
                m[1][1] = l;
                m[2][2] = l;
                m[3][3] = -l;
            }
            Gate::Swap => {
                m[0][0] = l;
                m[1][2] = l;
                m[2][1] = l;
                m[3][3] = l;
            }
            Gate::Rxx(t) | Gate::Ryy(t) => {
                // exp(−iθ P⊗P/2) = cos(θ/2) I − i sin(θ/2) P⊗P; P⊗P maps k ↔ 3 − k with
                // phase +1 for XX, and −1 on |00⟩,|11⟩, +1 on |01⟩,|10⟩ for YY (Y = iXZ).
                let (s, k) = (t / 2.0).sin_cos();
                for (i, row) in m.iter_mut().enumerate() {
                    row[i] = c(k, 0.0);
                    let sign = match self {
                        Gate::Ryy(_) if i == 0 || i == 3 => -1.0,
                        _ => 1.0,
                    };
                    row[3 - i] = c(0.0, -s * sign);
                }
            }
            Gate::Rzz(t) => {
                let (p, n) = (cis(-t / 2.0), cis(t / 2.0));
                m[0][0] = p;
                m[1][1] = n;
                m[2][2] = n;
                m[3][3] = p;
            }
            _ => panic!("{self:?} is a one-qubit gate"),
        }
        m
    }
}
