//! The YAML front end: the only file that names `serde_yaml` (swapping it for a maintained fork
//! is a change here only) and `saphyr_parser` (the streaming event parser that checks the
//! nesting depth before `serde_yaml` loads a document).
//!
//! * [`parse`] deserializes a document into the schema structs of [`super::model`], turning
//!   syntax and schema errors into [`ModelError`]s with file, line, column and key path (the
//!   key path from `serde_path_to_error`, line and column from the YAML error).
//! * [`locate`] finds the line and column of a key path, for the semantic errors found after
//!   deserialization (qubit out of range, duplicate parameter, …). It walks the document with
//!   a `DeserializeSeed` that fails on purpose at the target node; the YAML deserializer stamps
//!   that failure with the node's position.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess};

use saphyr_parser::{Event, Marker};

use super::error::{ModelError, Pos};
use super::keypath::{Ctx, KeyPath, Seg};
use super::limits::MAX_DEPTH;
use super::suggest::{backticked, nearest, DidYouMean};

/// Deserializes `ctx.text` into `T`.
///
/// # Errors
/// [`ModelError::Empty`] for a document without content, [`ModelError::Syntax`] for malformed
/// YAML, [`ModelError::UnknownKey`] and [`ModelError::Schema`] for schema violations.
pub(crate) fn parse<T: DeserializeOwned>(ctx: &Ctx<'_>) -> Result<T, ModelError> {
    check_depth(ctx)?;
    // Pass 1: is it YAML at all? (Distinguishes syntax errors from schema errors, and finds
    // documents that are empty or only comments.)
    match serde_yaml::from_str::<serde_yaml::Value>(ctx.text) {
        Ok(serde_yaml::Value::Null) => {
            return Err(ModelError::Empty {
                file: ctx.file.clone(),
            })
        }
        Ok(_) => {}
        Err(e) => {
            let (mut line, mut col) = line_col(&e);
            let mut problem = strip_marks(&e.to_string());
            if problem.starts_with("repetition limit exceeded") {
                problem = "aliases (`*name`) expand to more than 100 times the nodes written \
                           (repetition limit exceeded)"
                    .to_string();
            }
            if problem.starts_with("recursion limit exceeded") {
                // Only reachable if the depth check and the deserializer disagree on a node.
                return Err(ModelError::TooDeep {
                    at: Pos {
                        file: ctx.file.clone(),
                        line,
                        col,
                        key: top_level_key(ctx.text, line),
                    },
                    max: MAX_DEPTH,
                });
            }
            let mut key = top_level_key(ctx.text, line);
            if let Some(dup) = problem
                .strip_prefix("duplicate entry with key \"")
                .and_then(|r| r.strip_suffix('"'))
            {
                // The parser points at the mapping; point at the repeated key instead.
                if let Some((l, c)) = second_occurrence(ctx.text, dup) {
                    (line, col, key) = (l, c, dup.to_string());
                }
            }
            return Err(ModelError::Syntax {
                at: Pos {
                    file: ctx.file.clone(),
                    line,
                    col,
                    key,
                },
                problem,
            });
        }
    }
    // Pass 2: the schema.
    let de = serde_yaml::Deserializer::from_str(ctx.text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, col) = line_col(&inner);
        let message = strip_prefix_path(&strip_marks(&inner.to_string()), &path);
        schema_error(ctx, line, col, path, &message)
    })
}

/// Fails with [`ModelError::TooDeep`] at the first mapping or sequence nested more than
/// [`MAX_DEPTH`] levels deep. A streaming pass over the parser's events that stops there, so a
/// file nested 50 000 levels deep fails in microseconds: the YAML deserializer would first load
/// every level, in time quadratic in the depth. Malformed YAML passes (pass 1 of [`parse`]
/// reports it in the deserializer's words).
fn check_depth(ctx: &Ctx<'_>) -> Result<(), ModelError> {
    let too_deep = |mark: &Marker| {
        let line = mark.line();
        ModelError::TooDeep {
            at: Pos {
                file: ctx.file.clone(),
                line,
                col: mark.col() + 1,
                key: top_level_key(ctx.text, line),
            },
            max: MAX_DEPTH,
        }
    };
    let mut depth = 0usize;
    let mut parser = saphyr_parser::Parser::new_from_str(ctx.text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), span)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(&span.start));
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok((Event::StreamEnd, _)) => break,
            Ok(_) => {}
            // The scanner reads flow collections ahead of the events and stops at 255 open
            // brackets by itself.
            Err(e) if e.info().contains("recursion limit") => return Err(too_deep(e.marker())),
            Err(_) => break,
        }
    }
    Ok(())
}

/// The last top-level key (`key:` at column 1) at or before `line`: the section a syntax
/// error is in (`.` if there is none).
fn top_level_key(text: &str, line: usize) -> String {
    text.lines()
        .take(line)
        .filter(|l| l.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim().to_string()))
        .last()
        .unwrap_or_else(|| ".".to_string())
}

/// Line and column of the second `key:` at the indentation of the first one.
fn second_occurrence(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut indent = None;
    for (i, l) in text.lines().enumerate() {
        let body = l.trim_start();
        let col = l.len() - body.len();
        let body = body.strip_prefix("- ").unwrap_or(body);
        let hit = body
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'));
        if hit {
            match indent {
                None => indent = Some(col),
                Some(c) if c == col => return Some((i + 1, col + 1)),
                Some(_) => {}
            }
        }
    }
    None
}

/// Line and column (from 1) of a YAML error; `(1, 1)` if it has none.
fn line_col(e: &serde_yaml::Error) -> (usize, usize) {
    e.location().map_or((1, 1), |l| (l.line(), l.column()))
}

/// Removes every ` at line L column C` and ` at position P` from a message (the position is
/// reported separately).
fn strip_marks(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" at ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 4..];
        let skip = mark_len(tail);
        if skip == 0 {
            out.push_str(" at ");
            rest = tail;
        } else {
            rest = &tail[skip..];
        }
    }
    out.push_str(rest);
    out
}

/// Length of a leading `line L column C` or `position P` in `s`, 0 if there is none.
fn mark_len(s: &str) -> usize {
    fn digits(s: &str) -> usize {
        s.bytes().take_while(u8::is_ascii_digit).count()
    }
    if let Some(t) = s.strip_prefix("line ") {
        let d = digits(t);
        if d > 0 {
            if let Some(u) = t[d..].strip_prefix(" column ") {
                let d2 = digits(u);
                if d2 > 0 {
                    return 5 + d + 8 + d2;
                }
            }
        }
    } else if let Some(t) = s.strip_prefix("position ") {
        let d = digits(t);
        if d > 0 {
            return 9 + d;
        }
    }
    0
}

/// `serde_yaml` prefixes messages with its own path to the enclosing node (`terms[1]: …`);
/// drop it when it is a prefix of the path `serde_path_to_error` found.
fn strip_prefix_path(msg: &str, path: &str) -> String {
    if let Some(i) = msg.find(": ") {
        let head = &msg[..i];
        if !head.is_empty() && head != "." && path.starts_with(head) {
            return msg[i + 2..].to_string();
        }
    }
    msg.to_string()
}

/// Classifies a serde message (`unknown field`, `missing field`, `invalid type`, …) into a
/// [`ModelError`] in the schema's words (keys, not fields; numbers, not `f64`).
fn schema_error(ctx: &Ctx<'_>, line: usize, col: usize, path: String, msg: &str) -> ModelError {
    let at = |key: String| Pos {
        file: ctx.file.clone(),
        line,
        col,
        key,
    };
    let child = |name: &str| {
        if path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let expected = match tail.strip_prefix(", expected ") {
            Some(e) => e.replace("one of ", "one of the keys "),
            None => "no keys here".to_string(),
        };
        // Custom visitors report from the enclosing mapping: make the key path end in the key.
        let key = if path == name || path.ends_with(&format!(".{name}")) {
            path.clone()
        } else {
            child(name)
        };
        return ModelError::UnknownKey {
            at: at(key),
            name: name.to_string(),
            expected,
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return ModelError::Schema {
            at: at(child(name)),
            problem: format!("missing key `{name}`"),
            expected: format!("a `{name}` key in this mapping"),
        };
    }
    if let Some(rest) = msg.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return ModelError::Schema {
            at: at(child(name)),
            problem: format!("key `{name}` appears twice"),
            expected: "each key at most once per mapping".to_string(),
        };
    }
    let (problem, expected) = match msg.rsplit_once(", expected ") {
        Some((p, e)) => (p.to_string(), plain_type(e)),
        None => (
            msg.to_string(),
            "a value of the documented form".to_string(),
        ),
    };
    let mut problem = problem.replacen("unknown variant", "unknown value", 1);
    if let Some(word) = misspelt_value(&problem) {
        if let Some(s) = nearest(word, &backticked(&expected)) {
            problem = format!("{problem}{}", DidYouMean(Some(s)));
        }
    }
    ModelError::Schema {
        at: at(path),
        problem,
        expected,
    }
}

/// The word of ``unknown value `smoth` `` (an enum) or `invalid value: string "grund"` (a
/// custom visitor), the values a suggestion can be found for.
fn misspelt_value(problem: &str) -> Option<&str> {
    if let Some(rest) = problem.strip_prefix("unknown value `") {
        return rest.split('`').next();
    }
    problem
        .strip_prefix("invalid value: string \"")
        .and_then(|r| r.strip_suffix('"'))
}

/// Rust type names in serde's `expected …` turned into words.
fn plain_type(expected: &str) -> String {
    match expected {
        "f64" | "f32" => "a number".to_string(),
        "i64" | "i32" => "an integer".to_string(),
        "u64" | "u32" | "usize" => "a non-negative integer".to_string(),
        e => e.to_string(),
    }
}

/// Line and column (from 1) of the node at `path` in `text`. For a path that does not exist,
/// the position of the deepest existing node on it; `(1, 1)` if the text is not YAML.
pub(crate) fn locate(text: &str, path: &KeyPath) -> (usize, usize) {
    let de = serde_yaml::Deserializer::from_str(text);
    match Walk(&path.0).deserialize(de) {
        Ok(()) => (1, 1),
        Err(e) => line_col(&e),
    }
}

/// Walks `path` and fails at its end (or where it stops matching the document).
struct Walk<'p>(&'p [Seg]);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(WalkVisitor(self.0))
    }
}

struct WalkVisitor<'p>(&'p [Seg]);

impl<'de> de::Visitor<'de> for WalkVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the located node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(k), rest)) = self.0.split_first() else {
            return Err(de::Error::custom("located"));
        };
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if key.as_str() == Some(k.as_str()) {
                return map.next_value_seed(Walk(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Err(de::Error::custom("located"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(i), rest)) = self.0.split_first() else {
            return Err(de::Error::custom("located"));
        };
        for _ in 0..*i {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Err(de::Error::custom("located"));
            }
        }
        match seq.next_element_seed(Walk(rest))? {
            Some(()) | None => Err(de::Error::custom("located")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_marks() {
        assert_eq!(
            strip_marks("did not find x at line 3 column 1, while parsing at line 1 column 2"),
            "did not find x, while parsing"
        );
        assert_eq!(strip_marks("look at me"), "look at me");
    }

    #[test]
    fn locates_nested_keys() {
        let text = "qubits: 3\nparams:\n  - pauli: X0\n    value: 1\n  - {pauli: Z1, value: 2}\n";
        assert_eq!(locate(text, &KeyPath::root().key("qubits")), (1, 9));
        let p = KeyPath::root().key("params");
        assert_eq!(locate(text, &p.index(0).key("value")), (4, 12));
        assert_eq!(locate(text, &p.index(1).key("pauli")), (5, 13));
        assert_eq!(locate(text, &p.index(1)), (5, 5));
        // A missing key points at its enclosing mapping.
        assert_eq!(locate(text, &p.index(1).key("init")), (5, 5));
    }
}
