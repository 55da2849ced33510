//! Checks on the OpenQASM 3 text before and around Qiskit's parser: nesting depth (the parser
//! recurses and may overflow), refused constructs named at their location, and statement
//! offsets for located errors.

use oq3_syntax::ast::{self as synast, AstNode};
use oq3_syntax::SyntaxKind;

use crate::circuit::{CircuitError, MAX_CLBITS, MAX_DEPTH, MAX_QUBITS};

/// Line and column (1-based, in characters) of byte offset `off` of `src`.
pub(super) fn line_col(src: &str, off: usize) -> (usize, usize) {
    let off = off.min(src.len());
    let before = src.get(..off).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

pub(super) fn unsupported(src: &str, off: usize, construct: &str) -> CircuitError {
    let (line, col) = line_col(src, off);
    CircuitError::Unsupported {
        line,
        col,
        construct: construct.into(),
        expected: "the OpenQASM 3 subset qiskit.qasm3.dumps writes (gates, gate definitions, \
                   measure, reset, barrier, if, input float)",
    }
}

/// Nesting limits checked on the text before Qiskit's recursive parser sees it: bracket
/// depth, runs of prefix operators, and operators in one statement.
pub(super) fn prescan(src: &str) -> Result<(), CircuitError> {
    let b = src.as_bytes();
    let (mut depth, mut ops, mut prefix_run) = (0usize, 0usize, 0usize);
    let mut prev_operand = false;
    let mut i = 0;
    let too_deep = |i: usize, what| {
        let (line, col) = line_col(src, i);
        Err(CircuitError::TooDeep {
            line,
            col,
            what,
            max: MAX_DEPTH,
        })
    };
    while i < b.len() {
        let ch = b[i];
        if ch == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if ch == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if ch == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += 1;
            }
            i += 1;
            prev_operand = true;
            continue;
        }
        match ch {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return too_deep(i, "bracket");
                }
                prev_operand = false;
                prefix_run = 0;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                prev_operand = true;
                if ch == b'}' {
                    ops = 0;
                }
            }
            b';' => {
                ops = 0;
                prev_operand = false;
                prefix_run = 0;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'&' | b'|' | b'<' | b'>' | b'=' | b'!'
            | b'~' => {
                ops += 1;
                if ops > MAX_DEPTH {
                    return too_deep(i, "expression");
                }
                if !prev_operand {
                    prefix_run += 1;
                    if prefix_run > MAX_DEPTH {
                        return too_deep(i, "expression");
                    }
                }
                prev_operand = false;
            }
            c if c.is_ascii_whitespace() => {}
            _ => {
                prev_operand = true;
                prefix_run = 0;
            }
        }
        i += 1;
    }
    Ok(())
}

/// The construct named by a syntax node kind outside the subset, if it is one.
pub(super) fn refused(kind: SyntaxKind) -> Option<&'static str> {
    Some(match kind {
        SyntaxKind::FOR_STMT => "for loop",
        SyntaxKind::WHILE_STMT => "while loop",
        SyntaxKind::DEF => "subroutine (def)",
        SyntaxKind::RETURN_EXPR => "return",
        SyntaxKind::CALL_EXPR => "function or subroutine call",
        SyntaxKind::SWITCH_CASE_STMT => "switch",
        SyntaxKind::BREAK_STMT => "break",
        SyntaxKind::CONTINUE_STMT => "continue",
        SyntaxKind::END_STMT => "end",
        SyntaxKind::DELAY_STMT => "delay (timing)",
        SyntaxKind::BOX_EXPR => "box (timing)",
        SyntaxKind::CAL | SyntaxKind::DEF_CAL | SyntaxKind::DEF_CAL_GRAMMAR => "calibration",
        SyntaxKind::ALIAS_DECLARATION_STATEMENT => "alias (let)",
        SyntaxKind::MODIFIED_GATE_CALL_EXPR => "gate modifier (ctrl @, inv @, pow @)",
        _ => return None,
    })
}

/// Syntax checks with exact locations: parse errors, constructs outside the subset, includes
/// and register sizes. Returns the byte offsets of the top-level statements that become
/// statements of Qiskit's program (for locating errors found while lowering).
pub(super) fn check_syntax(src: &str) -> Result<Vec<usize>, CircuitError> {
    let parsed = synast::SourceFile::parse_check_lex(src);
    if let Some(e) = parsed.errors().first() {
        let (line, col) = line_col(src, e.range().start().into());
        return Err(CircuitError::Syntax {
            line,
            col,
            found: e.to_string(),
            expected: "OpenQASM 3 syntax".into(),
        });
    }
    let tree = parsed.tree();
    for node in tree.syntax().descendants() {
        let off: usize = node.text_range().start().into();
        if let Some(what) = refused(node.kind()) {
            return Err(unsupported(src, off, what));
        }
        if node.kind() == SyntaxKind::DESIGNATOR {
            // Register sizes must be small literals (Qiskit's analysis narrows them to u32).
            let text = node.text().to_string();
            let digits = text.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
            if let Ok(n) = digits.parse::<u64>() {
                if n > MAX_CLBITS.max(MAX_QUBITS) as u64 {
                    let (line, col) = line_col(src, off);
                    return Err(CircuitError::Syntax {
                        line,
                        col,
                        found: format!("a register of {n} bits"),
                        expected: format!("at most {MAX_CLBITS} bits"),
                    });
                }
            } else if digits.chars().all(|c| c.is_ascii_digit()) && !digits.is_empty() {
                let (line, col) = line_col(src, off);
                return Err(CircuitError::Syntax {
                    line,
                    col,
                    found: format!("the size `{digits}`"),
                    expected: format!("at most {MAX_CLBITS} bits"),
                });
            }
        }
    }
    let mut offsets = Vec::new();
    for stmt in tree.statements() {
        let off: usize = stmt.syntax().text_range().start().into();
        match stmt {
            synast::Stmt::Include(inc) => {
                let file = inc.file().and_then(|f| f.to_string()).unwrap_or_default();
                if file != "stdgates.inc" {
                    return Err(unsupported(
                        src,
                        off,
                        &format!("include \"{file}\" (only stdgates.inc is built in)"),
                    ));
                }
            }
            synast::Stmt::VersionString(_) | synast::Stmt::AnnotationStatement(_) => {}
            _ => offsets.push(off),
        }
    }
    Ok(offsets)
}
