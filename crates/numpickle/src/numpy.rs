//! numpy data: [`Dtype`] (what `numpy.dtype(...)` plus its `BUILD` state describe) and
//! [`NdArray`] (an array from `_frombuffer` or `_reconstruct`), with conversions to C-order
//! Rust vectors.

use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, ErrorKind};
use crate::value::Value;

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

/// The elements of an [`NdArray`].
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData<'a> {
    /// Fixed-width elements exactly as numpy laid them out (C or Fortran order, see
    /// [`NdArray::is_fortran`]); borrowed from the input whenever possible.
    Raw(Cow<'a, [u8]>),
    /// The elements of a `dtype=object` array, always in C (row-major) order.
    Objects(Vec<Value<'a>>),
}

/// A numpy ndarray: dtype, shape, memory order and elements.
#[derive(Clone, Debug)]
pub struct NdArray<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    fortran: bool,
    data: ArrayData<'a>,
    offset: usize,
}

impl<'a> NdArray<'a> {
    /// Assembles an array whose payload the VM has already checked against shape and dtype.
    pub(crate) fn from_parts(
        dtype: Dtype,
        shape: Vec<usize>,
        fortran: bool,
        data: ArrayData<'a>,
        offset: usize,
    ) -> Self {
        NdArray {
            dtype,
            shape,
            fortran,
            data,
            offset,
        }
    }

    /// The element dtype.
    pub fn dtype(&self) -> &Dtype {
        &self.dtype
    }

    /// The shape; empty for a 0-d array (an unconvertible numpy scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Whether raw elements are stored in Fortran (column-major) order.
    pub fn is_fortran(&self) -> bool {
        self.fortran
    }

    /// Number of elements (the product of the shape).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as stored.
    pub fn data(&self) -> &ArrayData<'a> {
        &self.data
    }

    /// Byte offset in the pickle of the opcode that created this array.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The elements in C (row-major) order as `f64`, widening floats, integers and bools
    /// (and numeric elements of object arrays).
    pub fn to_f64_vec(&self) -> Result<Vec<f64>, Error> {
        let bytes = match &self.data {
            ArrayData::Objects(items) => {
                return items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_f64()
                            .or_else(|| v.as_bool().map(|b| f64::from(u8::from(b))))
                            .ok_or_else(|| self.element_error(i, v, "a number"))
                    })
                    .collect();
            }
            ArrayData::Raw(bytes) => bytes.as_ref(),
        };
        let be = self.dtype.order == ByteOrder::Big;
        let storage: Vec<f64> = match (self.dtype.kind, self.dtype.itemsize) {
            (DtypeKind::Float, 8) => decode(bytes, be, f64::from_le_bytes, f64::from_be_bytes),
            (DtypeKind::Float, 4) => decode(
                bytes,
                be,
                |b| f32::from_le_bytes(b).into(),
                |b| f32::from_be_bytes(b).into(),
            ),
            (DtypeKind::Float, 2) => decode(
                bytes,
                be,
                |b| f16_to_f64(u16::from_le_bytes(b)),
                |b| f16_to_f64(u16::from_be_bytes(b)),
            ),
            (DtypeKind::Int | DtypeKind::UInt | DtypeKind::Bool, _) => {
                return Ok(self.integers()?.into_iter().map(|x| x as f64).collect());
            }
            _ => return Err(self.conversion_error("f64")),
        };
        Ok(self.c_order(storage))
    }

    /// The elements in C order as `i64`; integer and bool dtypes only (and integer
    /// elements of object arrays). `uint64` values above `i64::MAX` are an error.
    pub fn to_i64_vec(&self) -> Result<Vec<i64>, Error> {
        if let ArrayData::Objects(items) = &self.data {
            return items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_i64()
                        .ok_or_else(|| self.element_error(i, v, "an integer"))
                })
                .collect();
        }
        let wide = self.integers()?;
        wide.into_iter()
            .enumerate()
            .map(|(i, x)| {
                i64::try_from(x).map_err(|_| {
                    Error::new(ErrorKind::Conversion(format!(
                        "element {i} of a {} array does not fit in i64",
                        self.dtype
                    )))
                    .at(self.offset, None)
                })
            })
            .collect()
    }

    /// The elements in C order as `u64`; unsigned, bool and signed integer dtypes, where
    /// negative values are an error.
    pub fn to_u64_vec(&self) -> Result<Vec<u64>, Error> {
        if let ArrayData::Objects(items) = &self.data {
            return items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let n = match v {
                        Value::Scalar(s) => match s.value() {
                            crate::ScalarValue::UInt(u) => Some(u),
                            crate::ScalarValue::Int(i) => u64::try_from(i).ok(),
                            _ => None,
                        },
                        Value::Int(i) => u64::try_from(*i).ok(),
                        _ => None,
                    };
                    n.ok_or_else(|| self.element_error(i, v, "a non-negative integer"))
                })
                .collect();
        }
        self.integers()?
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                u64::try_from(x).map_err(|_| {
                    Error::new(ErrorKind::Conversion(format!(
                        "element {i} of a {} array does not fit in u64",
                        self.dtype
                    )))
                    .at(self.offset, None)
                })
            })
            .collect()
    }

    /// The elements in C order as strings: `U<n>` arrays (trailing NULs stripped, as numpy
    /// does), `S<n>` arrays holding UTF-8, and object arrays of `str`.
    pub fn to_string_vec(&self) -> Result<Vec<String>, Error> {
        let bytes = match &self.data {
            ArrayData::Objects(items) => {
                return items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| self.element_error(i, v, "a str"))
                    })
                    .collect();
            }
            ArrayData::Raw(bytes) => bytes.as_ref(),
        };
        let size = self.dtype.itemsize();
        let storage: Vec<String> = match self.dtype.kind {
            DtypeKind::Unicode if size.is_multiple_of(4) => {
                let be = self.dtype.order == ByteOrder::Big;
                let mut out = Vec::with_capacity(self.len());
                for (i, elem) in bytes.chunks_exact(size.max(4)).enumerate() {
                    out.push(utf32(elem, be).ok_or_else(|| {
                        Error::new(ErrorKind::Conversion(format!(
                            "element {i} of a {} array is not valid UTF-32",
                            self.dtype
                        )))
                        .at(self.offset, None)
                    })?);
                }
                out
            }
            DtypeKind::Bytes if size > 0 => {
                let mut out = Vec::with_capacity(self.len());
                for (i, elem) in bytes.chunks_exact(size).enumerate() {
                    let end = elem.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    let s = std::str::from_utf8(&elem[..end]).map_err(|_| {
                        Error::new(ErrorKind::Conversion(format!(
                            "element {i} of a {} array is not UTF-8",
                            self.dtype
                        )))
                        .at(self.offset, None)
                    })?;
                    out.push(s.to_owned());
                }
                out
            }
            _ => return Err(self.conversion_error("strings")),
        };
        Ok(self.c_order(storage))
    }

    /// Integer, unsigned and bool elements in C order, widened to `i128`.
    fn integers(&self) -> Result<Vec<i128>, Error> {
        let ArrayData::Raw(bytes) = &self.data else {
            return Err(self.conversion_error("integers"));
        };
        let be = self.dtype.order == ByteOrder::Big;
        let storage: Vec<i128> = match (self.dtype.kind, self.dtype.itemsize) {
            (DtypeKind::Int, 8) => decode(
                bytes,
                be,
                |b| i64::from_le_bytes(b).into(),
                |b| i64::from_be_bytes(b).into(),
            ),
            (DtypeKind::Int, 4) => decode(
                bytes,
                be,
                |b| i32::from_le_bytes(b).into(),
                |b| i32::from_be_bytes(b).into(),
            ),
            (DtypeKind::Int, 2) => decode(
                bytes,
                be,
                |b| i16::from_le_bytes(b).into(),
                |b| i16::from_be_bytes(b).into(),
            ),
            (DtypeKind::Int, 1) => bytes.iter().map(|&b| (b as i8).into()).collect(),
            (DtypeKind::UInt, 8) => decode(
                bytes,
                be,
                |b| u64::from_le_bytes(b).into(),
                |b| u64::from_be_bytes(b).into(),
            ),
            (DtypeKind::UInt, 4) => decode(
                bytes,
                be,
                |b| u32::from_le_bytes(b).into(),
                |b| u32::from_be_bytes(b).into(),
            ),
            (DtypeKind::UInt, 2) => decode(
                bytes,
                be,
                |b| u16::from_le_bytes(b).into(),
                |b| u16::from_be_bytes(b).into(),
            ),
            (DtypeKind::UInt, 1) => bytes.iter().map(|&b| b.into()).collect(),
            (DtypeKind::Bool, 1) => bytes.iter().map(|&b| i128::from(b != 0)).collect(),
            _ => return Err(self.conversion_error("integers")),
        };
        Ok(self.c_order(storage))
    }

    /// Reorders storage-order elements into C order (a no-op unless Fortran and 2-D+).
    fn c_order<T: Clone>(&self, storage: Vec<T>) -> Vec<T> {
        if !self.fortran || self.shape.len() < 2 || storage.is_empty() {
            return storage;
        }
        fortran_to_c(&storage, &self.shape)
    }

    fn conversion_error(&self, target: &str) -> Error {
        Error::new(ErrorKind::Conversion(format!(
            "cannot convert a {} array to {target}",
            self.dtype
        )))
        .at(self.offset, None)
    }

    fn element_error(&self, index: usize, found: &Value<'_>, wanted: &str) -> Error {
        Error::new(ErrorKind::Conversion(format!(
            "element {index} of an object array is {}, not {wanted}",
            found.describe()
        )))
        .at(self.offset, None)
    }
}

/// Checks that `bytes` payload bytes hold exactly the elements of `shape` for `dtype`.
pub(crate) fn check_raw(dtype: &Dtype, shape: &[usize], bytes: usize) -> Result<(), String> {
    let len = element_count(shape)?;
    if dtype.kind == DtypeKind::Object {
        return Err("an object array needs a list of elements, not bytes".into());
    }
    if dtype.itemsize == 0 && len > 0 {
        return Err(format!("dtype {dtype} has zero-size elements"));
    }
    let want = len
        .checked_mul(dtype.itemsize())
        .ok_or_else(|| format!("shape {shape:?} is too large"))?;
    if bytes != want {
        return Err(format!(
            "{bytes} payload bytes for shape {shape:?} of {dtype} (expected {want})"
        ));
    }
    Ok(())
}

/// Arrays are equal when dtype, shape, order and elements are (wherever they were pickled).
impl PartialEq for NdArray<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype
            && self.shape == other.shape
            && self.fortran == other.fortran
            && self.data == other.data
    }
}

/// The product of a shape, refusing overflow.
pub(crate) fn element_count(shape: &[usize]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} has too many elements"))
}

/// Decodes fixed-width elements of `N` bytes with the byte order chosen once.
fn decode<T, const N: usize>(
    bytes: &[u8],
    big_endian: bool,
    le: impl Fn([u8; N]) -> T,
    be: impl Fn([u8; N]) -> T,
) -> Vec<T> {
    let chunks = bytes.chunks_exact(N);
    if big_endian {
        chunks
            .map(|c| be(c.try_into().expect("chunk of N bytes")))
            .collect()
    } else {
        chunks
            .map(|c| le(c.try_into().expect("chunk of N bytes")))
            .collect()
    }
}

/// Permutes Fortran-order elements into C order for any number of dimensions.
fn fortran_to_c<T: Clone>(storage: &[T], shape: &[usize]) -> Vec<T> {
    let ndim = shape.len();
    let mut fstride = vec![1usize; ndim];
    for k in 1..ndim {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut index = vec![0usize; ndim];
    let mut out = Vec::with_capacity(storage.len());
    let mut f = 0usize;
    for _ in 0..storage.len() {
        out.push(storage[f].clone());
        // Advance the C-order multi-index (last axis fastest), tracking the Fortran offset.
        let mut k = ndim;
        while k > 0 {
            k -= 1;
            index[k] += 1;
            f += fstride[k];
            if index[k] < shape[k] {
                break;
            }
            f -= fstride[k] * shape[k];
            index[k] = 0;
        }
    }
    out
}

/// Decodes one fixed-width UTF-32 element, dropping trailing NULs as numpy does.
pub(crate) fn utf32(elem: &[u8], big_endian: bool) -> Option<String> {
    let mut units: Vec<u32> = elem
        .chunks_exact(4)
        .map(|c| {
            let b: [u8; 4] = c.try_into().expect("4-byte chunk");
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
        .collect();
    while units.last() == Some(&0) {
        units.pop();
    }
    units.into_iter().map(char::from_u32).collect()
}

/// Converts an IEEE half-precision float to `f64` exactly.
pub(crate) fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
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

    #[test]
    fn fortran_to_c_reorders_2d_and_3d() {
        // numpy: np.arange(6).reshape(2, 3, order="F") stores 0..6 column-major.
        let f: Vec<u32> = (0..6).collect();
        assert_eq!(fortran_to_c(&f, &[2, 3]), vec![0, 2, 4, 1, 3, 5]);
        let f: Vec<usize> = (0..24).collect();
        let c = fortran_to_c(&f, &[2, 3, 4]);
        // C index (i, j, k) = 12i + 4j + k holds Fortran offset i + 2j + 6k.
        let (i, j, k) = (1, 2, 3);
        assert_eq!(c[12 * i + 4 * j + k], i + 2 * j + 6 * k);
    }

    #[test]
    fn half_floats_convert_exactly() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert!(f16_to_f64(0x7e00).is_nan());
        assert_eq!(f16_to_f64(0x7c00), f64::INFINITY);
    }

    #[test]
    fn payload_must_match_shape() {
        let d = Dtype::parse("f8").unwrap();
        assert!(check_raw(&d, &[2], 16).is_ok());
        assert!(check_raw(&d, &[3], 16).is_err());
        assert!(check_raw(&d, &[usize::MAX, 2], 16).is_err());
        assert!(check_raw(&Dtype::parse("O8").unwrap(), &[2], 16).is_err());
        assert!(check_raw(&Dtype::parse("U").unwrap(), &[2], 0).is_err());
    }
}
