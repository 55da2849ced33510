//! The finite-result guard: no NaN or infinity is ever handed out as an answer.
//!
//! Overflowing coefficients, a division by a zero norm or an eigensolver fed infinities produce
//! NaN or ±∞ that would otherwise be printed (JSON even turns them into `null`) with exit 0.
//! [`check_finite`] walks any `Serialize` result — energies, expectations, gradients,
//! fidelities, traces — and names the first field that is not a finite number, so one call
//! on a command's result type covers every number in it.

use std::fmt;

use serde::ser::{self, Serialize};

/// A result contains a number that is not finite.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{what}: `{path}` = {value}; expected a finite number (the computation overflowed or \
     divided by zero: check the model's coefficients and the settings)"
)]
pub struct NonFiniteError {
    /// What was computed (e.g. `qep spectrum`).
    pub what: String,
    /// Key path of the first non-finite number, e.g. `energies[0]`.
    pub path: String,
    /// The number (NaN, `inf` or `-inf`).
    pub value: f64,
}

/// Checks that every floating-point number reachable through `value`'s `Serialize`
/// implementation is finite. `None` fields and skipped fields are not numbers and pass.
///
/// # Errors
/// [`NonFiniteError`] with the key path of the first NaN or infinity.
/// # Examples
/// ```
/// #[derive(serde::Serialize)]
/// struct Levels { energies: Vec<f64>, gap: Option<f64> }
/// let ok = Levels { energies: vec![-1.0, 0.5], gap: None };
/// assert!(qep::finite::check_finite(&ok, "spectrum").is_ok());
/// let bad = Levels { energies: vec![-1.0, f64::NAN], gap: Some(1.5) };
/// let e = qep::finite::check_finite(&bad, "spectrum").unwrap_err();
/// assert_eq!(e.path, "energies[1]");
/// ```
pub fn check_finite<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<(), NonFiniteError> {
    let mut w = Walker { path: Vec::new() };
    match value.serialize(&mut w) {
        Ok(()) => Ok(()),
        Err(Stop::Found { path, value }) => Err(NonFiniteError {
            what: what.to_string(),
            path,
            value,
        }),
        // A type whose own serializer failed is not a non-finite number.
        Err(Stop::Other(_)) => Ok(()),
    }
}

/// Checks a slice of numbers (e.g. a gradient) without a result type around it.
///
/// # Errors
/// [`NonFiniteError`] naming `what[i]` for the first non-finite entry.
pub fn check_finite_slice(values: &[f64], what: &str) -> Result<(), NonFiniteError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(NonFiniteError {
            what: what.to_string(),
            path: format!("[{i}]"),
            value: values[i],
        }),
    }
}

#[derive(Debug)]
enum Stop {
    Found { path: String, value: f64 },
    Other(String),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Found { path, value } => write!(f, "{path} = {value}"),
            Stop::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop::Other(msg.to_string())
    }
}

enum Seg {
    Key(String),
    Index(usize),
}

struct Walker {
    path: Vec<Seg>,
}

impl Walker {
    fn path_string(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        if s.is_empty() {
            s.push_str("value");
        }
        s
    }

    fn float(&self, v: f64) -> Result<(), Stop> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(Stop::Found {
                path: self.path_string(),
                value: v,
            })
        }
    }
}

/// Compound serializers: sequences count their elements, maps remember the last key.
struct Compound<'a> {
    w: &'a mut Walker,
    index: usize,
    key: Option<String>,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        self.w.path.push(Seg::Index(self.index));
        self.index += 1;
        let r = v.serialize(&mut *self.w);
        self.w.path.pop();
        r
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), Stop> {
        self.w.path.push(Seg::Key(key.to_string()));
        let r = v.serialize(&mut *self.w);
        self.w.path.pop();
        r
    }
}

/// Serializes a map key to a string for the path (numbers and strings; others as `?`).
struct KeyName;

macro_rules! key_display {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> Result<String, Stop> { Ok(v.to_string()) }
    )*};
}

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = Stop;
    type SerializeSeq = ser::Impossible<String, Stop>;
    type SerializeTuple = ser::Impossible<String, Stop>;
    type SerializeTupleStruct = ser::Impossible<String, Stop>;
    type SerializeTupleVariant = ser::Impossible<String, Stop>;
    type SerializeMap = ser::Impossible<String, Stop>;
    type SerializeStruct = ser::Impossible<String, Stop>;
    type SerializeStructVariant = ser::Impossible<String, Stop>;
    key_display!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16,
        serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_f32: f32, serialize_f64: f64,
        serialize_char: char, serialize_str: &str);
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Stop> {
        Ok("?".into())
    }
    fn serialize_none(self) -> Result<String, Stop> {
        Ok("?".into())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<String, Stop> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, Stop> {
        Ok("?".into())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<String, Stop> {
        Ok(name.into())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Stop> {
        Ok(variant.into())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, Stop> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<String, Stop> {
        Ok(variant.into())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(Stop::Other("key".into()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(Stop::Other("key".into()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop::Other("key".into()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop::Other("key".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(Stop::Other("key".into()))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(Stop::Other("key".into()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop::Other("key".into()))
    }
}

macro_rules! pass {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, _: $t) -> Result<(), Stop> { Ok(()) }
    )*};
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;
    pass!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_char: char, serialize_str: &str,
        serialize_bytes: &[u8]);
    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.float(v)
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Stop> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Stop> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Stop> {
        self.path.push(Seg::Key(variant.to_string()));
        let r = v.serialize(&mut *self);
        self.path.pop();
        r
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(Compound {
            w: self,
            index: 0,
            key: None,
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        self.serialize_seq(None)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        self.element(v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        self.element(v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        self.element(v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        self.element(v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Stop> {
        self.key = Some(k.serialize(KeyName).unwrap_or_else(|_| "?".into()));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Stop> {
        let key = self.key.take().unwrap_or_else(|| "?".into());
        self.field(&key, v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Stop> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Stop> {
        self.field(key, v)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}
