//! What the evolution commands share before they evolve: observables given as Pauli labels and
//! start states given by name (`plus`, `zero`, `basis:B`, …).

use crate::pauli::{PauliString, PauliSum};
use crate::state::StateVector;
use crate::C64;

use super::EvolveError;

/// A named start state of an evolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartState {
    /// The maximally mixed state `I/2^N`.
    Mixed,
    /// `|+…+⟩`, the ground state of `−Σ X_i`.
    Plus,
    /// `|0…0⟩`.
    Zero,
    /// The ground state of the model's Hamiltonian (found by Lanczos).
    Ground,
    /// The computational basis state `|B⟩` (qubit `i` = bit `i` of `B`).
    Basis(usize),
}

impl StartState {
    /// Parses `mixed`, `plus`, `zero`, `ground` or `basis:B` for an `n`-qubit model, accepting
    /// only the names of `allowed` (and `basis:B` with `B < 2^n`, always).
    ///
    /// # Errors
    /// [`EvolveError::BadStartState`] naming the text and the accepted forms.
    pub fn parse(spec: &str, n: usize, allowed: &[StartState]) -> Result<Self, EvolveError> {
        let named = [
            ("mixed", StartState::Mixed),
            ("plus", StartState::Plus),
            ("zero", StartState::Zero),
            ("ground", StartState::Ground),
        ];
        let found = named
            .iter()
            .find(|(name, s)| *name == spec && allowed.contains(s))
            .map(|&(_, s)| s)
            .or_else(|| {
                spec.strip_prefix("basis:")
                    .and_then(|b| b.parse().ok())
                    .filter(|&b: &usize| b < (1usize << n.min(63)))
                    .map(StartState::Basis)
            });
        found.ok_or_else(|| EvolveError::BadStartState {
            spec: spec.to_string(),
            expected: named
                .iter()
                .filter(|(_, s)| allowed.contains(s))
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
            qubits: n,
        })
    }

    /// The pure state's `2^n` amplitudes; `None` for [`StartState::Mixed`] and
    /// [`StartState::Ground`] (which need the Hamiltonian).
    ///
    /// # Errors
    /// [`StateError::Memory`](crate::state::StateError::Memory) if the state does not fit in memory.
    pub fn pure(self, n: usize) -> Result<Option<Vec<C64>>, EvolveError> {
        Ok(match self {
            StartState::Plus => Some(StateVector::<C64>::plus(n)?.into_vec()),
            StartState::Zero => Some(StateVector::<C64>::basis(n, 0)?.into_vec()),
            StartState::Basis(b) => Some(StateVector::<C64>::basis(n, b)?.into_vec()),
            StartState::Mixed | StartState::Ground => None,
        })
    }
}

/// One single-term observable per Pauli label (`"Z0"`, `"X1 X2"`), each checked to act on
/// the `n` qubits of the model.
///
/// # Errors
/// [`EvolveError::BadObservable`] for a label that is not a Pauli string,
/// [`EvolveError::ObservableOutOfRange`] for one that acts on a qubit `≥ n`.
pub fn observables(labels: &[String], n: usize) -> Result<Vec<PauliSum>, EvolveError> {
    labels
        .iter()
        .map(|label| {
            let p = PauliString::parse(label).map_err(|source| EvolveError::BadObservable {
                label: label.clone(),
                source,
            })?;
            if p.min_qubits() > n {
                return Err(EvolveError::ObservableOutOfRange {
                    label: label.clone(),
                    qubits: n,
                });
            }
            let mut s = PauliSum::new(n);
            s.add(p, 1.0);
            Ok(s)
        })
        .collect()
}
