//! [`NdArray`]: an array from `_frombuffer` or `_reconstruct` with its dtype, shape, memory
//! order and elements, its conversions to C-order Rust vectors, and the checks the VM makes
//! on a payload before building one.

use std::borrow::Cow;

use super::dtype::{ByteOrder, Dtype, DtypeKind};
use super::elements::{decode, f16_to_f64, fortran_to_c, utf32};
use crate::error::{Error, ErrorKind};
use crate::value::Value;

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
        let be = self.dtype.byte_order() == ByteOrder::Big;
        let storage: Vec<f64> = match (self.dtype.kind(), self.dtype.itemsize()) {
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
        self.narrowed("i64")
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
        self.narrowed("u64")
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
        let storage: Vec<String> = match self.dtype.kind() {
            DtypeKind::Unicode if size.is_multiple_of(4) => {
                let be = self.dtype.byte_order() == ByteOrder::Big;
                let mut out = Vec::with_capacity(self.len());
                for (i, elem) in bytes.chunks_exact(size.max(4)).enumerate() {
                    out.push(
                        utf32(elem, be)
                            .ok_or_else(|| self.raw_element_error(i, "is not valid UTF-32"))?,
                    );
                }
                out
            }
            DtypeKind::Bytes if size > 0 => {
                let mut out = Vec::with_capacity(self.len());
                for (i, elem) in bytes.chunks_exact(size).enumerate() {
                    let end = elem.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    let s = std::str::from_utf8(&elem[..end])
                        .map_err(|_| self.raw_element_error(i, "is not UTF-8"))?;
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
        let be = self.dtype.byte_order() == ByteOrder::Big;
        let storage: Vec<i128> = match (self.dtype.kind(), self.dtype.itemsize()) {
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

    /// The integer elements in C order as `T` (named `target`), each of which must fit.
    fn narrowed<T: TryFrom<i128>>(&self, target: &str) -> Result<Vec<T>, Error> {
        self.integers()?
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                T::try_from(x)
                    .map_err(|_| self.raw_element_error(i, &format!("does not fit in {target}")))
            })
            .collect()
    }

    /// "element `index` of a `<dtype>` array `problem`", at the array's offset.
    fn raw_element_error(&self, index: usize, problem: &str) -> Error {
        Error::new(ErrorKind::Conversion(format!(
            "element {index} of a {} array {problem}",
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
    if dtype.kind() == DtypeKind::Object {
        return Err("an object array needs a list of elements, not bytes".into());
    }
    if dtype.itemsize() == 0 && len > 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
