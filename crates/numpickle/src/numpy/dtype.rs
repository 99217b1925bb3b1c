//! [`Dtype`]: the kind, element size and byte order of a numpy dtype, parsed from the type
//! code numpy pickles as the `numpy.dtype(...)` argument and completed by its `BUILD` state,
//! and displayed as numpy's `str(dtype)`.

use std::fmt;

/// The kind of a numpy dtype (its type character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DtypeKind {
    /// `b`: numpy bool, one byte.
    Bool,
    /// `i`: signed integer.
    Int,
    /// `u`: unsigned integer.
    UInt,
    /// `f`: IEEE float (2, 4 or 8 bytes convert; 16-byte long doubles do not).
    Float,
    /// `c`: complex (kept as raw bytes, not converted).
    Complex,
    /// `O`: Python objects (arrays carry a list of values).
    Object,
    /// `U`: fixed-width UTF-32 text.
    Unicode,
    /// `S`: fixed-width bytes.
    Bytes,
    /// `M`: datetime64 (kept as raw bytes).
    DateTime,
    /// `m`: timedelta64 (kept as raw bytes).
    TimeDelta,
    /// `V`: void, structured or sub-array dtypes (kept as raw bytes).
    Void,
}

/// Byte order of a dtype's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `<`
    Little,
    /// `>`
    Big,
    /// `|`: single bytes, objects and byte strings.
    NotApplicable,
}

/// A numpy dtype: kind, element size in bytes and byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dtype {
    kind: DtypeKind,
    order: ByteOrder,
    itemsize: u32,
}

impl Dtype {
    /// A dtype from its parts (used by tests and callers building expectations).
    pub fn new(kind: DtypeKind, itemsize: usize, order: ByteOrder) -> Dtype {
        Dtype {
            kind,
            order,
            itemsize: u32::try_from(itemsize).unwrap_or(u32::MAX),
        }
    }

    /// The kind (type character).
    pub fn kind(&self) -> DtypeKind {
        self.kind
    }

    /// Bytes per element (4 per character for `U`; 8 for `O`).
    pub fn itemsize(&self) -> usize {
        self.itemsize as usize
    }

    /// The element byte order.
    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// Parses the type code numpy pickles as the first `numpy.dtype` argument (`"f8"`,
    /// `"<U7"` is not used there; `"U7"`, `"O8"`, `"b1"`, `"M8"`).
    pub(crate) fn parse(code: &str) -> Result<Dtype, String> {
        // The code is pickled text, so the message gives only its length.
        let unsupported = || {
            format!(
                "an unknown type code of {} characters",
                code.chars().count()
            )
        };
        let mut chars = code.chars();
        let kind_char = chars.next().ok_or_else(unsupported)?;
        let digits = chars.as_str();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
            return Err(unsupported());
        }
        let n: Option<u32> = if digits.is_empty() {
            None
        } else {
            Some(digits.parse().map_err(|_| unsupported())?)
        };
        use DtypeKind::*;
        let (kind, itemsize) = match (kind_char, n) {
            ('b', None | Some(1)) | ('?', None) => (Bool, 1),
            ('i', Some(s @ (1 | 2 | 4 | 8))) => (Int, s),
            ('u', Some(s @ (1 | 2 | 4 | 8))) => (UInt, s),
            ('f', Some(s @ (2 | 4 | 8 | 16))) => (Float, s),
            ('c', Some(s @ (8 | 16 | 32))) => (Complex, s),
            ('O', None) => (Object, 8),
            ('O', Some(s @ (4 | 8))) => (Object, s),
            ('U', n) => (
                Unicode,
                n.unwrap_or(0).checked_mul(4).ok_or_else(unsupported)?,
            ),
            ('S' | 'a', n) => (Bytes, n.unwrap_or(0)),
            ('V', n) => (Void, n.unwrap_or(0)),
            ('M', Some(8)) => (DateTime, 8),
            ('m', Some(8)) => (TimeDelta, 8),
            _ => return Err(unsupported()),
        };
        let order = match kind {
            Object | Bytes | Void => ByteOrder::NotApplicable,
            _ if itemsize == 1 => ByteOrder::NotApplicable,
            _ => ByteOrder::Little,
        };
        Ok(Dtype {
            kind,
            order,
            itemsize,
        })
    }

    /// Applies the `BUILD` state numpy pickles after `numpy.dtype(...)`:
    /// `(version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])`.
    pub(crate) fn apply_state(
        &mut self,
        byteorder: &str,
        elsize: Option<i64>,
        structured: bool,
    ) -> Result<(), String> {
        self.order = match byteorder {
            "<" => ByteOrder::Little,
            ">" => ByteOrder::Big,
            "|" => ByteOrder::NotApplicable,
            "=" if cfg!(target_endian = "big") => ByteOrder::Big,
            "=" => ByteOrder::Little,
            _ => return Err("a byte order other than `<`, `>`, `|` or `=`".into()),
        };
        if let Some(size) = elsize.filter(|&s| s > 0) {
            if matches!(
                self.kind,
                DtypeKind::Unicode | DtypeKind::Bytes | DtypeKind::Void
            ) {
                self.itemsize = u32::try_from(size).map_err(|_| format!("element size {size}"))?;
            }
        }
        if structured {
            self.kind = DtypeKind::Void;
            self.order = ByteOrder::NotApplicable;
        }
        Ok(())
    }

    fn type_char(&self) -> char {
        match self.kind {
            DtypeKind::Bool => 'b',
            DtypeKind::Int => 'i',
            DtypeKind::UInt => 'u',
            DtypeKind::Float => 'f',
            DtypeKind::Complex => 'c',
            DtypeKind::Object => 'O',
            DtypeKind::Unicode => 'U',
            DtypeKind::Bytes => 'S',
            DtypeKind::DateTime => 'M',
            DtypeKind::TimeDelta => 'm',
            DtypeKind::Void => 'V',
        }
    }

    fn order_char(&self) -> char {
        match self.order {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }
}

/// Formats like numpy's `str(dtype)`: `float64`, `int8`, `bool`, `object`, `<U7`, `|S5`,
/// and `>f8` for big-endian numbers.
impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = self.itemsize() * 8;
        let big = self.order == ByteOrder::Big;
        match self.kind {
            DtypeKind::Bool => f.write_str("bool"),
            DtypeKind::Object => f.write_str("object"),
            DtypeKind::Unicode => write!(f, "{}U{}", self.order_char(), self.itemsize() / 4),
            DtypeKind::Bytes => write!(f, "|S{}", self.itemsize()),
            DtypeKind::Void => write!(f, "|V{}", self.itemsize()),
            _ if big => write!(f, ">{}{}", self.type_char(), self.itemsize()),
            DtypeKind::Int => write!(f, "int{bits}"),
            DtypeKind::UInt => write!(f, "uint{bits}"),
            DtypeKind::Float => write!(f, "float{bits}"),
            DtypeKind::Complex => write!(f, "complex{bits}"),
            DtypeKind::DateTime => f.write_str("datetime64"),
            DtypeKind::TimeDelta => f.write_str("timedelta64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pickled_type_codes() {
        assert_eq!(Dtype::parse("f8").unwrap().to_string(), "float64");
        assert_eq!(Dtype::parse("f4").unwrap().to_string(), "float32");
        assert_eq!(Dtype::parse("i1").unwrap().to_string(), "int8");
        assert_eq!(Dtype::parse("u2").unwrap().to_string(), "uint16");
        assert_eq!(Dtype::parse("b1").unwrap().to_string(), "bool");
        assert_eq!(Dtype::parse("O8").unwrap().to_string(), "object");
        assert_eq!(Dtype::parse("U7").unwrap().to_string(), "<U7");
        assert_eq!(Dtype::parse("U7").unwrap().itemsize(), 28);
        assert!(Dtype::parse("f3").is_err());
        assert!(Dtype::parse("x8").is_err());
        assert!(Dtype::parse("").is_err());
        assert!(Dtype::parse("U99999999999").is_err());
    }

    #[test]
    fn big_endian_display_matches_numpy() {
        let mut d = Dtype::parse("f8").unwrap();
        d.apply_state(">", Some(-1), false).unwrap();
        assert_eq!(d.to_string(), ">f8");
        let mut u = Dtype::parse("U3").unwrap();
        u.apply_state(">", Some(12), false).unwrap();
        assert_eq!(u.to_string(), ">U3");
    }
}
