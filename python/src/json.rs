//! Results as Python values: a library result is serialised exactly as the CLI's `--json`
//! serialises it (`serde_json`), then turned into dictionaries, lists and numbers, with every
//! list of numbers as a numpy array (1-D; a list of equal-length number lists as a 2-D array).
//! The keys and the numbers are therefore the CLI's, bit for bit.

use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;

/// The numbers of a JSON list when every entry is a number: as integers when every entry is
/// an integer, as floats otherwise. `None` for an empty list or any other entry.
enum Numbers {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

fn numbers(a: &[Value]) -> Option<Numbers> {
    if a.is_empty() || !a.iter().all(Value::is_number) {
        return None;
    }
    if a.iter().all(Value::is_i64) {
        return Some(Numbers::Ints(a.iter().filter_map(Value::as_i64).collect()));
    }
    // u64 beyond i64 or floats: floats, as numpy would make them.
    Some(Numbers::Floats(
        a.iter().filter_map(Value::as_f64).collect(),
    ))
}

/// A list of equal-length (≥ 1) number lists as rows of floats.
fn matrix(a: &[Value]) -> Option<Vec<Vec<f64>>> {
    let first = a.first()?.as_array()?.len();
    if first == 0 {
        return None;
    }
    a.iter()
        .map(|row| {
            let r = row.as_array().filter(|r| r.len() == first)?;
            match numbers(r)? {
                Numbers::Ints(v) => Some(v.into_iter().map(|x| x as f64).collect()),
                Numbers::Floats(v) => Some(v),
            }
        })
        .collect()
}

/// `v` as a Python value: objects → dict, number lists → numpy arrays, other lists → list,
/// `null` → None.
pub(crate) fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => match (numbers(a), matrix(a)) {
            (Some(Numbers::Ints(v)), _) => PyArray1::from_vec(py, v).into_any(),
            (Some(Numbers::Floats(v)), _) => PyArray1::from_vec(py, v).into_any(),
            (None, Some(rows)) => match PyArray2::from_vec2(py, &rows) {
                Ok(m) => m.into_any(),
                Err(_) => list(py, a)?,
            },
            (None, None) => list(py, a)?,
        },
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

fn list<'py>(py: Python<'py>, a: &[Value]) -> PyResult<Bound<'py, PyAny>> {
    let items = a
        .iter()
        .map(|x| to_py(py, x))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}
