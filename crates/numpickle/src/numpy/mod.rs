//! numpy data: [`Dtype`] (what `numpy.dtype(...)` plus its `BUILD` state describe) and
//! [`NdArray`] (an array from `_frombuffer` or `_reconstruct`), with conversions to C-order
//! Rust vectors.
//!
//! - `dtype`: [`Dtype`], its kind and byte order, parsing the pickled type code and the
//!   `BUILD` state, and numpy's display;
//! - `array`: [`NdArray`], its conversions to Rust vectors and the payload checks the VM
//!   makes before building one;
//! - `elements`: decoding fixed-width elements (either byte order, half floats, UTF-32) and
//!   reordering Fortran-order storage into C order.

mod array;
mod dtype;
mod elements;

pub(crate) use array::{check_raw, element_count};
pub use array::{ArrayData, NdArray};
pub use dtype::{ByteOrder, Dtype, DtypeKind};
pub(crate) use elements::{f16_to_f64, utf32};
