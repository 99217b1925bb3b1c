//! Element decoding shared by arrays and scalars: fixed-width elements in either byte order,
//! IEEE half floats and fixed-width UTF-32 text, and the Fortran-to-C reordering of storage.

/// Decodes fixed-width elements of `N` bytes with the byte order chosen once.
pub(super) fn decode<T, const N: usize>(
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
pub(super) fn fortran_to_c<T: Clone>(storage: &[T], shape: &[usize]) -> Vec<T> {
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
}
