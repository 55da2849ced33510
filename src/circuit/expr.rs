//! Parameter expressions compiled to postfix code and evaluated on an explicit stack, so
//! that evaluating an expression never recurses however it was nested.

/// A one-argument function of OpenQASM 2 (`sin cos tan exp ln sqrt`, and the inverse
/// trigonometric functions Qiskit's exporters may write).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Fun {
    Sin,
    Cos,
    Tan,
    Exp,
    Ln,
    Sqrt,
    Asin,
    Acos,
    Atan,
}

impl Fun {
    /// The function called `name`, if any.
    pub(crate) fn named(name: &str) -> Option<Fun> {
        Some(match name {
            "sin" => Fun::Sin,
            "cos" => Fun::Cos,
            "tan" => Fun::Tan,
            "exp" => Fun::Exp,
            "ln" => Fun::Ln,
            "sqrt" => Fun::Sqrt,
            "asin" | "arcsin" => Fun::Asin,
            "acos" | "arccos" => Fun::Acos,
            "atan" | "arctan" => Fun::Atan,
            _ => return None,
        })
    }

    fn apply(self, x: f64) -> f64 {
        match self {
            Fun::Sin => x.sin(),
            Fun::Cos => x.cos(),
            Fun::Tan => x.tan(),
            Fun::Exp => x.exp(),
            Fun::Ln => x.ln(),
            Fun::Sqrt => x.sqrt(),
            Fun::Asin => x.asin(),
            Fun::Acos => x.acos(),
            Fun::Atan => x.atan(),
        }
    }
}

/// One instruction of the postfix code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Code {
    /// Push a number.
    Num(f64),
    /// Push parameter `k` of the enclosing gate definition.
    Param(usize),
    /// Negate the top.
    Neg,
    /// Pop `b`, pop `a`, push `a + b` (and so on).
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// Apply a function to the top.
    Call(Fun),
}

/// A compiled expression.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Expr(pub(crate) Vec<Code>);

impl Expr {
    /// Evaluates with the gate parameters `params` (`Param(k)` reads `params[k]`; a missing
    /// one reads as NaN, which the caller reports as a non-finite angle).
    pub(crate) fn eval(&self, params: &[f64]) -> f64 {
        let mut st: Vec<f64> = Vec::with_capacity(8);
        for c in &self.0 {
            match *c {
                Code::Num(x) => st.push(x),
                Code::Param(k) => st.push(params.get(k).copied().unwrap_or(f64::NAN)),
                Code::Neg => {
                    if let Some(x) = st.last_mut() {
                        *x = -*x;
                    }
                }
                Code::Call(f) => {
                    if let Some(x) = st.last_mut() {
                        *x = f.apply(*x);
                    }
                }
                op => {
                    let b = st.pop().unwrap_or(f64::NAN);
                    let a = st.pop().unwrap_or(f64::NAN);
                    st.push(match op {
                        Code::Add => a + b,
                        Code::Sub => a - b,
                        Code::Mul => a * b,
                        Code::Div => a / b,
                        _ => a.powf(b),
                    });
                }
            }
        }
        st.pop().unwrap_or(f64::NAN)
    }

    /// The constant value, if the expression reads no parameter.
    pub(crate) fn constant(&self) -> Option<f64> {
        (!self.0.iter().any(|c| matches!(c, Code::Param(_)))).then(|| self.eval(&[]))
    }
}
