//! "Did you mean …?" for names a model file gets wrong: keys, values of a fixed set (schedule,
//! coupling `type`, site sets, jump operators), CSV columns, and Pauli strings written without
//! spaces (`"X0X1"` for `"X0 X1"`).

use std::fmt;

use crate::pauli::{PauliError, PauliString};

/// The candidate `word` most likely stands for, if one is close enough to be a typo.
///
/// A candidate equal to `word` up to case wins (`zz` → `ZZ`); then the one at the smallest
/// optimal-string-alignment distance (a transposition costs 1: `stpes` → `steps`) if that
/// distance is at most `len / 3` characters (none for words of one or two characters: `c` is
/// no typo of `a`); then one that `word` starts with or that starts with `word` (`imag` →
/// `im`, `kubo` → `kubo-mori`), at least two characters shared.
/// Ties go to the earlier candidate. `None` if nothing is close: a wrong suggestion is worse
/// than none.
pub(crate) fn nearest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let lower = word.to_lowercase();
    if let Some(c) = candidates.iter().find(|c| c.to_lowercase() == lower) {
        return Some(c);
    }
    let len = word.chars().count();
    let best = candidates
        .iter()
        .map(|c| (strsim::osa_distance(&lower, &c.to_lowercase()), *c))
        .min_by_key(|&(d, _)| d);
    if let Some((d, c)) = best {
        if d <= len / 3 {
            return Some(c);
        }
    }
    candidates.iter().copied().find(|c| {
        let c = c.to_lowercase();
        let shared = c.len().min(lower.len());
        shared >= 2 && (c.starts_with(&lower) || lower.starts_with(&c))
    })
}

/// The backticked names in a message part such as ``one of `linear`, `smooth`, `local` ``
/// (serde's list of expected fields or variants).
pub(crate) fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// A sparse Pauli string whose letters were run together (`"X0X1"`, `"z0z3y5"`), written
/// with spaces (`"X0 X1"`, `"z0 z3 y5"`) if that form parses; `None` otherwise.
pub(crate) fn spaced_pauli(text: &str) -> Option<String> {
    let mut changed = false;
    let mut out: Vec<String> = Vec::new();
    for token in text.split_whitespace() {
        let parts = split_letters(token)?;
        changed |= parts.len() > 1;
        out.extend(parts);
    }
    let spaced = out.join(" ");
    (changed && PauliString::parse(&spaced).is_ok()).then_some(spaced)
}

/// [`spaced_pauli`] of the text a Pauli parser error is about.
pub(crate) fn spaced_pauli_of(e: &PauliError) -> Option<String> {
    match e {
        PauliError::BadIndex { text, .. } | PauliError::BadLetter { text, .. } => {
            spaced_pauli(text)
        }
        _ => None,
    }
}

/// `"X0Z12"` → `["X0", "Z12"]`: a token that is letters each followed by digits (optionally
/// `_`), split before each letter; `None` if it is not of that form.
fn split_letters(token: &str) -> Option<Vec<String>> {
    let mut parts: Vec<String> = Vec::new();
    for c in token.chars() {
        if matches!(c.to_ascii_uppercase(), 'I' | 'X' | 'Y' | 'Z') {
            parts.push(c.to_string());
        } else if c.is_ascii_digit() || c == '_' {
            parts.last_mut()?.push(c);
        } else {
            return None;
        }
    }
    let complete = parts
        .iter()
        .all(|p| p.chars().last().is_some_and(|c| c.is_ascii_digit()));
    complete.then_some(parts)
}

/// Renders an optional suggestion as `` (did you mean `params`?)`` — or nothing — inside an
/// error message.
pub(crate) struct DidYouMean<S>(pub(crate) Option<S>);

impl<S: fmt::Display> fmt::Display for DidYouMean<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names() {
        let keys = ["version", "name", "qubits", "params", "terms", "couplings"];
        assert_eq!(nearest("param", &keys), Some("params"));
        assert_eq!(nearest("qbits", &keys), Some("qubits"));
        assert_eq!(nearest("Terms", &keys), Some("terms"));
        assert_eq!(nearest("foo", &keys), None);
        assert_eq!(nearest("stpes", &["time", "steps"]), Some("steps"));
        assert_eq!(nearest("imag", &["re", "im"]), Some("im"));
        assert_eq!(
            nearest("kubo", &["clamped", "kubo-mori"]),
            Some("kubo-mori")
        );
        assert_eq!(nearest("zz", &["ZZ", "XX"]), Some("ZZ"));
        assert_eq!(nearest("QQ", &["ZZ", "XX"]), None);
        assert_eq!(nearest("c", &["a", "b", "y"]), None);
        assert_eq!(nearest("al", &["sites", "all"]), Some("all"));
        assert_eq!(nearest("rmsprop", &["sgd", "adam"]), None);
    }

    #[test]
    fn backticks() {
        assert_eq!(
            backticked("one of `linear`, `smooth`, `local`"),
            ["linear", "smooth", "local"]
        );
        assert!(backticked("a number").is_empty());
    }

    #[test]
    fn spaced_paulis() {
        assert_eq!(spaced_pauli("X0X1").as_deref(), Some("X0 X1"));
        assert_eq!(spaced_pauli("X0 Z3Y12").as_deref(), Some("X0 Z3 Y12"));
        assert_eq!(spaced_pauli("x_0z_1").as_deref(), Some("x_0 z_1"));
        assert_eq!(spaced_pauli("X0 X1"), None);
        assert_eq!(spaced_pauli("X0X0"), None);
        assert_eq!(spaced_pauli("Q0Q1"), None);
        assert_eq!(spaced_pauli("XX1"), None);
    }
}
