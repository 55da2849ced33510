//! A Pauli string on up to 64 qubits, stored as X and Z bitmasks.

use std::fmt;
use std::str::FromStr;

use super::PauliError;

/// Maximum number of qubits a [`PauliString`] can address (one `u64` mask per letter type).
pub const MAX_QUBITS: usize = 64;

/// The phase `i^k` of a product of Pauli strings, `k ∈ 0..4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Phase(pub u8);

impl Phase {
    /// `i^k` as a complex number.
    pub fn to_complex(self) -> num_complex::Complex64 {
        match self.0 % 4 {
            0 => num_complex::Complex64::new(1.0, 0.0),
            1 => num_complex::Complex64::new(0.0, 1.0),
            2 => num_complex::Complex64::new(-1.0, 0.0),
            _ => num_complex::Complex64::new(0.0, -1.0),
        }
    }
}

/// Pauli string on ≤ 64 qubits: qubit `i` carries X if bit `i` of `x` is set, Z if bit `i` of
/// `z` is, Y if both (docs/DESIGN.md: qubit i is bit i of the basis index).
///
/// With `n_Y = |x ∧ z|` the operator is `P = i^{n_Y} X^x Z^z`, so that on a basis state
/// `P|b⟩ = i^{n_Y} (−1)^{|b ∧ z|} |b ⊕ x⟩` (one letter `Y = iXZ`). The identity is `x = z = 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PauliString {
    x: u64,
    z: u64,
}

/// One single-qubit Pauli letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Letter {
    /// Identity.
    I,
    /// Pauli X (bit flip).
    X,
    /// Pauli Y = iXZ.
    Y,
    /// Pauli Z (phase flip), `Z|0⟩ = |0⟩`.
    Z,
}

impl Letter {
    /// Parses one of `I X Y Z` (case-insensitive).
    pub fn from_char(c: char) -> Option<Self> {
        match c.to_ascii_uppercase() {
            'I' => Some(Letter::I),
            'X' => Some(Letter::X),
            'Y' => Some(Letter::Y),
            'Z' => Some(Letter::Z),
            _ => None,
        }
    }

    /// The letter as an upper-case character.
    pub fn as_char(self) -> char {
        match self {
            Letter::I => 'I',
            Letter::X => 'X',
            Letter::Y => 'Y',
            Letter::Z => 'Z',
        }
    }

    fn bits(self) -> (bool, bool) {
        match self {
            Letter::I => (false, false),
            Letter::X => (true, false),
            Letter::Y => (true, true),
            Letter::Z => (false, true),
        }
    }
}

impl PauliString {
    /// The identity string.
    pub const IDENTITY: PauliString = PauliString { x: 0, z: 0 };

    /// Builds a string from its masks (bit `i` of `x`: X or Y on qubit `i`; of `z`: Z or Y).
    pub const fn from_masks(x: u64, z: u64) -> Self {
        Self { x, z }
    }

    /// A single letter on qubit `q`.
    ///
    /// # Panics
    /// If `q ≥ 64` (a caller bug; parsing checks user input).
    #[track_caller]
    pub fn single(letter: Letter, q: usize) -> Self {
        assert!(q < MAX_QUBITS, "qubit {q} out of range");
        let (x, z) = letter.bits();
        Self {
            x: (x as u64) << q,
            z: (z as u64) << q,
        }
    }

    /// Builds a string from `(letter, qubit)` pairs; repeated qubits are an error.
    ///
    /// # Errors
    /// [`PauliError::QubitOutOfRange`] for `q ≥ 64`, [`PauliError::RepeatedQubit`] if a qubit
    /// appears twice.
    pub fn from_letters(letters: &[(Letter, usize)]) -> Result<Self, PauliError> {
        let mut s = Self::IDENTITY;
        let mut seen = 0u64;
        for &(l, q) in letters {
            if q >= MAX_QUBITS {
                return Err(PauliError::QubitOutOfRange {
                    qubit: q,
                    limit: MAX_QUBITS,
                });
            }
            if seen & (1 << q) != 0 {
                return Err(PauliError::RepeatedQubit { qubit: q });
            }
            seen |= 1 << q;
            let (x, z) = l.bits();
            s.x |= (x as u64) << q;
            s.z |= (z as u64) << q;
        }
        Ok(s)
    }

    /// Parses the sparse form `"X0 Z3 Y5"` (letters followed by qubit indices, separated by
    /// spaces, commas or `*`), or the dense form `"XZIY"` (one letter per qubit, **qubit 0
    /// leftmost**). `""` and `"I"` are the identity.
    ///
    /// The dense form is recognised when the text has no digits; it reads left to right as
    /// qubit 0, 1, 2, … (the natural reading of a list of letters). Printed bitstrings are the
    /// opposite (qubit 0 rightmost); Pauli labels are not bitstrings.
    ///
    /// # Errors
    /// [`PauliError::BadLetter`], [`PauliError::BadIndex`], [`PauliError::RepeatedQubit`],
    /// [`PauliError::QubitOutOfRange`].
    /// # Examples
    /// ```
    /// use qep::pauli::{Letter, PauliString};
    /// let p = PauliString::parse("X0 Z2")?;
    /// assert_eq!(p.letter(0), Letter::X);
    /// assert_eq!(p.letter(2), Letter::Z);
    /// // The dense form reads qubit 0 first.
    /// assert_eq!(PauliString::parse("XIZ")?, p);
    /// assert_eq!(p.label(), "X0 Z2");
    /// assert!(PauliString::parse("Q1").is_err());
    /// # Ok::<(), qep::pauli::PauliError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, PauliError> {
        let t = text.trim();
        if t.is_empty() || t == "I" || t == "i" {
            return Ok(Self::IDENTITY);
        }
        if !t.chars().any(|c| c.is_ascii_digit()) {
            // Dense form: one letter per qubit, qubit 0 first.
            let mut letters = Vec::new();
            for (q, c) in t.chars().filter(|c| !c.is_whitespace()).enumerate() {
                let l = Letter::from_char(c).ok_or_else(|| PauliError::BadLetter {
                    text: text.to_string(),
                    letter: c,
                })?;
                if l != Letter::I {
                    letters.push((l, q));
                }
            }
            return Self::from_letters(&letters);
        }
        let mut letters = Vec::new();
        for token in t.split(|c: char| c.is_whitespace() || c == ',' || c == '*') {
            if token.is_empty() {
                continue;
            }
            let mut chars = token.chars();
            let first = chars.next().unwrap_or(' ');
            let letter = Letter::from_char(first).ok_or_else(|| PauliError::BadLetter {
                text: text.to_string(),
                letter: first,
            })?;
            let digits = chars.as_str();
            let q: usize = digits
                .strip_prefix('_')
                .unwrap_or(digits)
                .parse()
                .map_err(|_| PauliError::BadIndex {
                    text: text.to_string(),
                    token: token.to_string(),
                })?;
            if letter != Letter::I {
                letters.push((letter, q));
            } else if q >= MAX_QUBITS {
                return Err(PauliError::QubitOutOfRange {
                    qubit: q,
                    limit: MAX_QUBITS,
                });
            }
        }
        Self::from_letters(&letters)
    }

    /// X/Y mask: bit `i` set where qubit `i` carries X or Y.
    pub const fn x(self) -> u64 {
        self.x
    }

    /// Z/Y mask: bit `i` set where qubit `i` carries Z or Y.
    pub const fn z(self) -> u64 {
        self.z
    }

    /// Support: qubits on which the string is not the identity.
    pub const fn support(self) -> u64 {
        self.x | self.z
    }

    /// Number of non-identity letters.
    pub const fn weight(self) -> u32 {
        self.support().count_ones()
    }

    /// Number of Y letters.
    pub const fn n_y(self) -> u32 {
        (self.x & self.z).count_ones()
    }

    /// Whether the string is the identity.
    pub const fn is_identity(self) -> bool {
        self.x == 0 && self.z == 0
    }

    /// Whether the string is diagonal in the computational basis (only Z and I).
    pub const fn is_diagonal(self) -> bool {
        self.x == 0
    }

    /// Highest qubit index used plus one (0 for the identity).
    pub const fn min_qubits(self) -> usize {
        64 - self.support().leading_zeros() as usize
    }

    /// The letter on qubit `q`.
    pub fn letter(self, q: usize) -> Letter {
        if q >= MAX_QUBITS {
            return Letter::I;
        }
        match ((self.x >> q) & 1, (self.z >> q) & 1) {
            (0, 0) => Letter::I,
            (1, 0) => Letter::X,
            (1, 1) => Letter::Y,
            _ => Letter::Z,
        }
    }

    /// `self · rhs = i^k P`, exact: moving `Z^{z₁}` past `X^{x₂}` costs `(−1)^{|z₁∧x₂|}`.
    /// # Examples
    /// ```
    /// use qep::pauli::PauliString;
    /// // X·Z = −iY: phase i³.
    /// let (phase, p) = PauliString::parse("X0")?.product(PauliString::parse("Z0")?);
    /// assert_eq!(p, PauliString::parse("Y0")?);
    /// assert_eq!(phase.to_complex(), qep::C64::new(0.0, -1.0));
    /// assert!(!PauliString::parse("X0")?.commutes_with(PauliString::parse("Z0")?));
    /// assert!(PauliString::parse("X0 X1")?.commutes_with(PauliString::parse("Z0 Z1")?));
    /// # Ok::<(), qep::pauli::PauliError>(())
    /// ```
    pub fn product(self, rhs: Self) -> (Phase, Self) {
        let (x, z) = (self.x ^ rhs.x, self.z ^ rhs.z);
        let k = (self.x & self.z).count_ones()
            + (rhs.x & rhs.z).count_ones()
            + 2 * (self.z & rhs.x).count_ones()
            + 3 * (x & z).count_ones(); // −|x∧z| ≡ 3|x∧z| (mod 4)
        (Phase((k % 4) as u8), Self { x, z })
    }

    /// Commute iff the symplectic product is even.
    pub fn commutes_with(self, rhs: Self) -> bool {
        ((self.x & rhs.z).count_ones() + (self.z & rhs.x).count_ones()).is_multiple_of(2)
    }

    /// Qubit-wise commutation: on every qubit the two letters are equal or one is I.
    /// Qubit-wise commuting strings can be measured from the same shots in one basis.
    pub fn qubitwise_commutes_with(self, rhs: Self) -> bool {
        let both = self.support() & rhs.support();
        ((self.x ^ rhs.x) | (self.z ^ rhs.z)) & both == 0
    }

    /// Action on a basis state: `P|b⟩ = i^k (−1)^{…} |b'⟩`, returned as `(phase, b')` with the
    /// sign folded into the phase (`k ∈ 0..4`).
    pub fn apply_to_basis(self, b: u64) -> (Phase, u64) {
        let sign = (b & self.z).count_ones() % 2; // (−1)^{|b∧z|} = i^{2·sign}
        let k = self.n_y() + 2 * sign;
        (Phase((k % 4) as u8), b ^ self.x)
    }

    /// The sparse label `"X0 Z3 Y5"` in increasing qubit order (`"I"` for the identity).
    pub fn label(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PauliString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_identity() {
            return f.write_str("I");
        }
        let mut first = true;
        let mut s = self.support();
        while s != 0 {
            let q = s.trailing_zeros() as usize;
            s &= s - 1;
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}{}", self.letter(q).as_char(), q)?;
        }
        Ok(())
    }
}

impl FromStr for PauliString {
    type Err = PauliError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
