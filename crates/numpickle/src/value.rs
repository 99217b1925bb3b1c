//! [`Value`]: a decoded Python object tree, with lookups by key and dotted path, numeric and
//! string accessors, and [`Value::describe`] for type-mismatch messages.

use std::borrow::Cow;

use crate::error::{PathError, PathErrorReason};
use crate::numpy::{Dtype, DtypeKind, NdArray};

/// A decoded Python value. Strings, bytes and array payloads borrow from the input when they
/// can.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits in `i64`.
    Int(i64),
    /// A larger `int`, as little-endian two's-complement bytes (as pickled).
    BigInt(Cow<'a, [u8]>),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(Cow<'a, str>),
    /// A `bytes` object.
    Bytes(Cow<'a, [u8]>),
    /// A `bytearray`.
    ByteArray(Cow<'a, [u8]>),
    /// A `list`.
    List(Vec<Value<'a>>),
    /// A `tuple`.
    Tuple(Vec<Value<'a>>),
    /// A `set` (in pickled order).
    Set(Vec<Value<'a>>),
    /// A `frozenset` (in pickled order).
    FrozenSet(Vec<Value<'a>>),
    /// A `dict`, as key/value pairs in insertion order.
    Dict(Vec<(Value<'a>, Value<'a>)>),
    /// A numpy ndarray.
    Array(Box<NdArray<'a>>),
    /// A numpy dtype object.
    Dtype(Dtype),
    /// A numpy bool, integer or float scalar (`numpy.float64(0.5)`, ...).
    Scalar(Scalar),
    /// A value that selective decoding stepped over without building it.
    Skipped,
}

/// A numpy scalar: its dtype and its value, widened losslessly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scalar {
    dtype: Dtype,
    value: ScalarValue,
}

/// The value of a numpy scalar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue {
    /// `numpy.bool_`.
    Bool(bool),
    /// `numpy.int8` … `numpy.int64`.
    Int(i64),
    /// `numpy.uint8` … `numpy.uint64`.
    UInt(u64),
    /// `numpy.float16` … `numpy.float64`, widened to `f64`.
    Float(f64),
}

impl Scalar {
    /// A scalar from its dtype and value.
    pub fn new(dtype: Dtype, value: ScalarValue) -> Self {
        Scalar { dtype, value }
    }

    /// The scalar's dtype (e.g. `float64`, `>i4`).
    pub fn dtype(&self) -> &Dtype {
        &self.dtype
    }

    /// The scalar's value.
    pub fn value(&self) -> ScalarValue {
        self.value
    }

    /// Decodes the canonical bits the VM keeps for a scalar item.
    pub(crate) fn from_bits(dtype: Dtype, bits: u64) -> Self {
        let value = match dtype.kind() {
            DtypeKind::Bool => ScalarValue::Bool(bits != 0),
            DtypeKind::Int => ScalarValue::Int(bits as i64),
            DtypeKind::UInt => ScalarValue::UInt(bits),
            _ => ScalarValue::Float(f64::from_bits(bits)),
        };
        Scalar { dtype, value }
    }
}

impl<'a> Value<'a> {
    /// Looks up `key` in a dict: a `str` key equal to it, or an integer key (Python `int` or
    /// numpy integer) whose decimal text equals it, or a bool key `True`/`False`.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        let Value::Dict(entries) = self else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| key_matches(k, key))
            .map(|(_, v)| v)
    }

    /// Follows a dotted path of dict keys, e.g. `subjectwise_stats.test.labels`; the empty
    /// path is the value itself.
    pub fn at(&self, path: &str) -> Result<&Value<'a>, PathError> {
        let mut current = self;
        if path.is_empty() {
            return Ok(current);
        }
        let mut start = 0usize;
        for key in path.split('.') {
            let parent = &path[..start.saturating_sub(1)];
            current = match current {
                Value::Dict(entries) => match current.get(key) {
                    Some(v) => v,
                    None => {
                        return Err(PathError::new(
                            parent.to_owned(),
                            key,
                            PathErrorReason::MissingKey {
                                keys: entries.len(),
                            },
                        ));
                    }
                },
                Value::Skipped => {
                    return Err(PathError::new(
                        parent.to_owned(),
                        key,
                        PathErrorReason::Skipped,
                    ))
                }
                other => {
                    return Err(PathError::new(
                        parent.to_owned(),
                        key,
                        PathErrorReason::NotADict {
                            found: other.describe(),
                        },
                    ))
                }
            };
            start += key.len() + 1;
        }
        Ok(current)
    }

    /// A Python `float` or `int`, or a numpy float or integer scalar, as `f64` (big ints
    /// are rounded to the nearest `f64`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            Value::BigInt(bytes) => Some(bigint_to_f64(bytes)),
            Value::Scalar(s) => match s.value {
                ScalarValue::Float(x) => Some(x),
                ScalarValue::Int(i) => Some(i as f64),
                ScalarValue::UInt(u) => Some(u as f64),
                ScalarValue::Bool(_) => None,
            },
            _ => None,
        }
    }

    /// A Python `int` or numpy integer scalar that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Scalar(s) => match s.value {
                ScalarValue::Int(i) => Some(i),
                ScalarValue::UInt(u) => i64::try_from(u).ok(),
                _ => None,
            },
            _ => None,
        }
    }

    /// A Python `bool` or `numpy.bool_`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Scalar(Scalar {
                value: ScalarValue::Bool(b),
                ..
            }) => Some(*b),
            _ => None,
        }
    }

    /// A `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The payload of `bytes` or `bytearray`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) | Value::ByteArray(b) => Some(b),
            _ => None,
        }
    }

    /// A numpy ndarray.
    pub fn as_array(&self) -> Option<&NdArray<'a>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The items of a `list` or `tuple`.
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::List(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The key/value pairs of a `dict`.
    pub fn as_dict(&self) -> Option<&[(Value<'a>, Value<'a>)]> {
        match self {
            Value::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// Whether selective decoding skipped this value.
    pub fn is_skipped(&self) -> bool {
        matches!(self, Value::Skipped)
    }

    /// A short description for messages: `"int64[62]"`, `"float64[63, 20]"`,
    /// `"dict with 4 keys"`, `"list of 20"`, `"str"`, `"float64 scalar"`, `"None"`.
    pub fn describe(&self) -> String {
        fn count(n: usize, one: &str, many: &str) -> String {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        }
        match self {
            Value::None => "None".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) | Value::BigInt(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::ByteArray(_) => "bytearray".into(),
            Value::List(items) => format!("list of {}", items.len()),
            Value::Tuple(items) => format!("tuple of {}", items.len()),
            Value::Set(items) => format!("set of {}", items.len()),
            Value::FrozenSet(items) => format!("frozenset of {}", items.len()),
            Value::Dict(entries) => format!("dict with {}", count(entries.len(), "key", "keys")),
            Value::Array(a) => {
                let dims: Vec<String> = a.shape().iter().map(usize::to_string).collect();
                format!("{}[{}]", a.dtype(), dims.join(", "))
            }
            Value::Dtype(d) => format!("dtype {d}"),
            Value::Scalar(s) => format!("{} scalar", s.dtype),
            Value::Skipped => "a skipped value".into(),
        }
    }
}

fn key_matches(key: &Value<'_>, wanted: &str) -> bool {
    match key {
        Value::Str(s) => s == wanted,
        Value::Int(i) => parse_canonical_int(wanted) == Some(i128::from(*i)),
        Value::Scalar(s) => match s.value {
            ScalarValue::Int(i) => parse_canonical_int(wanted) == Some(i128::from(i)),
            ScalarValue::UInt(u) => parse_canonical_int(wanted) == Some(i128::from(u)),
            ScalarValue::Bool(b) => wanted == if b { "True" } else { "False" },
            ScalarValue::Float(_) => false,
        },
        Value::Bool(b) => wanted == if *b { "True" } else { "False" },
        _ => false,
    }
}

/// Parses decimal text that is exactly how Python prints an integer (no `+`, no leading
/// zeros, no `-0`).
pub(crate) fn parse_canonical_int(text: &str) -> Option<i128> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.len() <= 38
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// Rounds a little-endian two's-complement integer to the nearest `f64`.
fn bigint_to_f64(bytes: &[u8]) -> f64 {
    let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
    // Magnitude, little-endian.
    let mut mag: Vec<u8> = bytes.to_vec();
    if negative {
        let mut carry = 1u16;
        for b in &mut mag {
            let v = u16::from(!*b) + carry;
            *b = v as u8;
            carry = v >> 8;
        }
    }
    while mag.last() == Some(&0) {
        mag.pop();
    }
    let Some(&top) = mag.last() else {
        return 0.0;
    };
    let bits = mag.len() * 8 - top.leading_zeros() as usize;
    let magnitude = if bits <= 64 {
        let mut buf = [0u8; 8];
        buf[..mag.len()].copy_from_slice(&mag);
        u64::from_le_bytes(buf) as f64
    } else {
        // Keep the top 64 bits plus a sticky bit so that u64 -> f64 rounds correctly.
        let shift = bits - 64;
        let mut top64 = 0u64;
        for i in (0..64).rev() {
            let bit = shift + i;
            top64 = (top64 << 1) | u64::from((mag[bit / 8] >> (bit % 8)) & 1);
        }
        let sticky = (0..shift).any(|bit| (mag[bit / 8] >> (bit % 8)) & 1 != 0);
        let top64 = top64 | u64::from(sticky);
        let exp = i32::try_from(shift).unwrap_or(i32::MAX);
        (top64 as f64) * 2f64.powi(exp)
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numpy::ByteOrder;

    fn dict<'a>(entries: Vec<(Value<'a>, Value<'a>)>) -> Value<'a> {
        Value::Dict(entries)
    }

    fn s(text: &str) -> Value<'_> {
        Value::Str(Cow::Borrowed(text))
    }

    #[test]
    fn get_matches_str_and_integer_keys() {
        let i8 = Dtype::new(DtypeKind::Int, 8, ByteOrder::Little);
        let v = dict(vec![
            (s("a"), Value::Int(1)),
            (Value::Int(-3), Value::Int(2)),
            (
                Value::Scalar(Scalar::new(i8, ScalarValue::Int(1))),
                Value::Int(3),
            ),
        ]);
        assert_eq!(v.get("a"), Some(&Value::Int(1)));
        assert_eq!(v.get("-3"), Some(&Value::Int(2)));
        assert_eq!(v.get("1"), Some(&Value::Int(3)));
        assert_eq!(v.get("01"), None);
        assert_eq!(v.get("b"), None);
    }

    #[test]
    fn at_reports_missing_keys_and_types() {
        let v = dict(vec![(s("outer"), dict(vec![(s("x"), Value::Int(1))]))]);
        assert_eq!(v.at("outer.x").unwrap(), &Value::Int(1));
        let err = v.at("outer.y").unwrap_err();
        assert_eq!(err.parent(), "outer");
        assert_eq!(
            err.to_string(),
            "key `y` not found in `outer`: the dict has 1 key, none is `y`"
        );
        let err = v.at("outer.x.z").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot look up `z` in `outer.x`: it is int, not a dict"
        );
        let err = v.at("nope").unwrap_err();
        assert_eq!(
            err.to_string(),
            "key `nope` not found in the top-level dict: the dict has 1 key, none is `nope`"
        );
        let err = dict(vec![]).at("a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "key `a` not found in the top-level dict: it is empty"
        );
    }

    #[test]
    fn describe_is_short() {
        assert_eq!(Value::List(vec![Value::None; 20]).describe(), "list of 20");
        assert_eq!(dict(vec![]).describe(), "dict with 0 keys");
        assert_eq!(
            dict(vec![(s("k"), Value::None)]).describe(),
            "dict with 1 key"
        );
        assert_eq!(s("x").describe(), "str");
    }

    #[test]
    fn canonical_ints_only() {
        assert_eq!(parse_canonical_int("0"), Some(0));
        assert_eq!(parse_canonical_int("-12"), Some(-12));
        assert_eq!(parse_canonical_int("-0"), None);
        assert_eq!(parse_canonical_int("+1"), None);
        assert_eq!(parse_canonical_int("007"), None);
        assert_eq!(parse_canonical_int(""), None);
    }

    #[test]
    fn bigints_round_to_nearest() {
        // 2**64 + 1 and -(2**70).
        let mut b = vec![1u8, 0, 0, 0, 0, 0, 0, 0, 1];
        b.push(0);
        assert_eq!(bigint_to_f64(&b), 18446744073709551617.0);
        let neg: Vec<u8> = vec![0, 0, 0, 0, 0, 0, 0, 0, 0xc0];
        assert_eq!(bigint_to_f64(&neg), -(2f64.powi(70)));
        // 2**80 - 1 rounds up to 2**80.
        let mut max = vec![0xffu8; 10];
        max.push(0);
        assert_eq!(bigint_to_f64(&max), 2f64.powi(80));
    }
}
