//! The OpenQASM 2 lexer: source text to located tokens.

use crate::circuit::CircuitError;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Num(f64),
    Int(usize),
    Str(String),
    Sym(&'static str),
    Eof,
}

impl Tok {
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Num(x) => format!("`{x}`"),
            Tok::Int(x) => format!("`{x}`"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Eof => "end of file".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) line: usize,
    pub(super) col: usize,
}

pub(super) fn lex(src: &str) -> Result<Vec<Token>, CircuitError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0, 1, 1);
    while i < chars.len() {
        let ch = chars[i];
        let (l0, c0) = (line, col);
        let mut adv = |i: &mut usize, n: usize| {
            *i += n;
            col += n;
        };
        if ch == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if ch.is_whitespace() {
            adv(&mut i, 1);
            continue;
        }
        if ch == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = if ch.is_ascii_alphabetic() || ch == '_' {
            let s: String = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            adv(&mut i, s.chars().count());
            Tok::Ident(s)
        } else if ch.is_ascii_digit()
            || (ch == '.' && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()))
        {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len() && (chars[j] == 'e' || chars[j] == 'E') {
                let mut k = j + 1;
                if k < chars.len() && (chars[k] == '+' || chars[k] == '-') {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_digit() {
                    while k < chars.len() && chars[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            let s: String = chars[i..j].iter().collect();
            let len = j - i;
            adv(&mut i, len);
            if s.chars().all(|c| c.is_ascii_digit()) {
                match s.parse::<usize>() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => Tok::Num(s.parse().unwrap_or(f64::INFINITY)),
                }
            } else {
                Tok::Num(s.parse().map_err(|_| CircuitError::Syntax {
                    line: l0,
                    col: c0,
                    found: format!("`{s}`"),
                    expected: "a number".into(),
                })?)
            }
        } else if ch == '"' {
            let s: String = chars[i + 1..]
                .iter()
                .take_while(|c| **c != '"' && **c != '\n')
                .collect();
            if chars.get(i + 1 + s.chars().count()) != Some(&'"') {
                return Err(CircuitError::Syntax {
                    line: l0,
                    col: c0,
                    found: "an unterminated string".into(),
                    expected: "a closing `\"`".into(),
                });
            }
            adv(&mut i, s.chars().count() + 2);
            Tok::Str(s)
        } else {
            const SYMS: [&str; 14] = [
                "->", "==", ";", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/",
            ];
            let rest: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            match SYMS
                .iter()
                .find(|s| rest.starts_with(**s))
                .or((ch == '^').then_some(&"^"))
            {
                Some(s) => {
                    adv(&mut i, s.len());
                    Tok::Sym(s)
                }
                None => {
                    return Err(CircuitError::Syntax {
                        line: l0,
                        col: c0,
                        found: format!("`{ch}`"),
                        expected: "a statement, name, number or symbol of OpenQASM 2.0".into(),
                    })
                }
            }
        };
        out.push(Token {
            tok,
            line: l0,
            col: c0,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        col,
    });
    Ok(out)
}
