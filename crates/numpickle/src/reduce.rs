//! What `REDUCE` and `BUILD` mean for the allowed globals. Nothing is executed: each call
//! is modelled here, producing numpy dtypes, arrays and scalars, or the `bytes`,
//! `bytearray` and sets that protocols 2–3 spell as calls.

use std::borrow::Cow;

use crate::error::ErrorKind;
use crate::item::{Arena, ArrayItems, ArrayObj, Global, Item, Obj};
use crate::numpy::{self, ByteOrder, Dtype, DtypeKind};

/// Most dimensions numpy allows.
const MAX_DIMS: usize = 64;

fn bad(msg: String) -> ErrorKind {
    ErrorKind::BadOperand(msg)
}

fn describe_args(arena: &Arena<'_>, args: &[Item<'_>]) -> String {
    let parts: Vec<String> = args.iter().map(|&a| arena.describe(a)).collect();
    format!("({})", parts.join(", "))
}

/// Longest `str`/`bytes` argument still converted inside skipped subtrees (protocol 2
/// spells every `bytes`, e.g. numpy scalar payloads and the shared `b'b'` typecode, as
/// `_codecs.encode(str, 'latin1')`, and later memo references may need them).
pub(crate) const SMALL_PAYLOAD: usize = 256;

/// Whether a call is cheap enough to evaluate inside a skipped subtree, where its result
/// might still be memo-referenced from a selected one. Array calls only borrow the input.
pub(crate) fn cheap(global: Global, args: &[Item<'_>], arena: &Arena<'_>) -> bool {
    match global {
        Global::Dtype | Global::Scalar | Global::FromBuffer | Global::Reconstruct => true,
        Global::Bytes | Global::Ndarray => true,
        Global::CodecsEncode | Global::ByteArray => args.iter().all(|&a| {
            let len = arena
                .str_of(a)
                .map(str::len)
                .or_else(|| arena.bytes_ref(a).map(<[u8]>::len));
            len.is_none_or(|n| n <= SMALL_PAYLOAD)
        }),
        Global::Set | Global::FrozenSet => false,
    }
}

/// Evaluates `global(*args)`.
pub(crate) fn call<'a>(
    global: Global,
    args: &[Item<'a>],
    arena: &mut Arena<'a>,
    offset: usize,
) -> Result<Item<'a>, ErrorKind> {
    let wrong = |arena: &Arena<'a>, expected: &str| {
        bad(format!(
            "`{}` expects {expected}, got {}",
            global.name(),
            describe_args(arena, args)
        ))
    };
    match global {
        Global::Dtype => {
            let Some(code) = args.first().and_then(|&a| arena.str_of(a)) else {
                return Err(wrong(arena, "(type code, align, copy)"));
            };
            let dtype = Dtype::parse(code).map_err(ErrorKind::UnsupportedDtype)?;
            arena.alloc(Obj::Dtype(dtype))
        }
        Global::Scalar => {
            let &[dtype, payload] = args else {
                return Err(wrong(arena, "(dtype, payload)"));
            };
            let Some(dtype) = dtype_of(arena, dtype) else {
                return Err(wrong(arena, "(dtype, payload)"));
            };
            scalar(arena, dtype, payload, offset)?
                .ok_or_else(|| wrong(arena, &format!("a {dtype} payload")))
        }
        Global::FromBuffer => {
            let &[buffer, dtype, shape, order] = args else {
                return Err(wrong(arena, "(buffer, dtype, shape, order)"));
            };
            let (Some(bytes), Some(dtype), Some(order)) = (
                arena.bytes_of(buffer)?,
                dtype_of(arena, dtype),
                arena.str_of(order),
            ) else {
                return Err(wrong(arena, "(buffer, dtype, shape, order)"));
            };
            let fortran = match order {
                "C" => false,
                "F" => true,
                _ => return Err(bad("`_frombuffer` order must be 'C' or 'F'".into())),
            };
            let shape = shape_of(arena, shape)?;
            let array = raw_array(dtype, shape, fortran, bytes, offset)?;
            arena.alloc(Obj::Array(array))
        }
        Global::Reconstruct => match args.first() {
            Some(Item::Global(Global::Ndarray)) if args.len() == 3 => {
                arena.alloc(Obj::PendingArray)
            }
            _ => Err(wrong(arena, "(numpy.ndarray, shape, typecode)")),
        },
        Global::Ndarray => Err(bad(
            "`numpy.ndarray` may only be passed to `_reconstruct`".into()
        )),
        Global::CodecsEncode => match args {
            &[text, encoding] => {
                let (Some(text), Some(encoding)) = (arena.str_of(text), arena.str_of(encoding))
                else {
                    return Err(wrong(arena, "(str, 'latin1')"));
                };
                arena.ensure_bytes(text.len())?;
                let bytes =
                    latin1(text, encoding).ok_or_else(|| wrong(arena, "(str, 'latin1')"))?;
                arena.alloc(Obj::Bytes(bytes))
            }
            _ => Err(wrong(arena, "(str, 'latin1')")),
        },
        Global::Bytes => match args {
            [] => Ok(Item::Bytes(&[])),
            _ => Err(wrong(arena, "no arguments")),
        },
        Global::ByteArray => {
            let bytes = match args {
                [] => Vec::new(),
                &[b] => match arena.bytes_ref(b) {
                    Some(payload) => {
                        arena.ensure_bytes(payload.len())?;
                        payload.to_vec()
                    }
                    None => return Err(wrong(arena, "(bytes,) or (str, 'latin-1')")),
                },
                &[text, encoding] => match (arena.str_of(text), arena.str_of(encoding)) {
                    (Some(t), Some(e)) => {
                        arena.ensure_bytes(t.len())?;
                        latin1(t, e).ok_or_else(|| wrong(arena, "(str, 'latin-1')"))?
                    }
                    _ => return Err(wrong(arena, "(bytes,) or (str, 'latin-1')")),
                },
                _ => return Err(wrong(arena, "(bytes,) or (str, 'latin-1')")),
            };
            arena.alloc(Obj::ByteArray(bytes))
        }
        Global::Set | Global::FrozenSet => {
            let source = match args {
                [] => &[][..],
                &[Item::Tuple(start, len)] => arena.tuple(start, len),
                &[Item::Obj(id)] => match arena.obj(id) {
                    Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v) => &v[..],
                    _ => return Err(wrong(arena, "(list,)")),
                },
                _ => return Err(wrong(arena, "(list,)")),
            };
            arena.ensure_items(source.len())?;
            let items = source.to_vec();
            arena.alloc(if global == Global::Set {
                Obj::Set(items)
            } else {
                Obj::FrozenSet(items)
            })
        }
    }
}

/// Applies `BUILD` to a dtype (its byte order and size) or to an ndarray from
/// `_reconstruct` (its shape, dtype, order and payload).
pub(crate) fn build<'a>(
    arena: &mut Arena<'a>,
    target: u32,
    state: Item<'a>,
    offset: usize,
) -> Result<(), ErrorKind> {
    let Item::Tuple(start, len) = state else {
        return Err(bad(format!(
            "the state of {} must be a tuple, got {}",
            arena.describe(Item::Obj(target)),
            arena.describe(state)
        )));
    };
    let st = arena.tuple(start, len).to_vec();
    match arena.obj(target) {
        Obj::Dtype(dtype) => {
            // (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
            let mut dtype = *dtype;
            let byteorder = st.get(1).and_then(|&b| arena.str_of(b));
            let (Some(byteorder), true) = (byteorder, st.len() >= 6) else {
                return Err(bad(format!(
                    "a dtype state must be (version, byteorder, ...), got {}",
                    describe_args(arena, &st)
                )));
            };
            let structured = !matches!(st[2], Item::None) || !matches!(st[3], Item::None);
            let elsize = match st[5] {
                Item::Int(i) => Some(i),
                _ => None,
            };
            dtype
                .apply_state(byteorder, elsize, structured)
                .map_err(ErrorKind::UnsupportedDtype)?;
            *arena.obj_mut(target) = Obj::Dtype(dtype);
            Ok(())
        }
        Obj::PendingArray => {
            // (version, shape, dtype, is_fortran, payload), or without the version.
            let fields = match st.len() {
                5 => &st[1..],
                4 => &st[..],
                _ => {
                    return Err(bad(format!(
                    "an ndarray state must be (version, shape, dtype, is_fortran, data), got {}",
                    describe_args(arena, &st)
                )))
                }
            };
            let (Some(dtype), Some(fortran)) = (dtype_of(arena, fields[1]), truth(fields[2]))
            else {
                return Err(bad(format!(
                    "an ndarray state must be (version, shape, dtype, is_fortran, data), got {}",
                    describe_args(arena, &st)
                )));
            };
            let shape = shape_of(arena, fields[0])?;
            let array = if let Some(bytes) = arena.bytes_of(fields[3])? {
                raw_array(dtype, shape, fortran, bytes, offset)?
            } else if let Item::Obj(id) = fields[3] {
                let Obj::List(items) = arena.obj(id) else {
                    return Err(bad(format!(
                        "ndarray data must be bytes or a list, got {}",
                        arena.describe(fields[3])
                    )));
                };
                if dtype.kind() != DtypeKind::Object {
                    return Err(ErrorKind::InvalidArray(format!(
                        "a {dtype} array got a list of elements"
                    )));
                }
                let n = numpy::element_count(&shape).map_err(ErrorKind::InvalidArray)?;
                if items.len() != n {
                    return Err(ErrorKind::InvalidArray(format!(
                        "{} elements for shape {shape:?} (expected {n})",
                        items.len()
                    )));
                }
                arena.ensure_items(items.len())?;
                ArrayObj {
                    dtype,
                    shape,
                    fortran,
                    data: ArrayItems::Objects(items.clone()),
                    offset,
                }
            } else {
                return Err(bad(format!(
                    "ndarray data must be bytes or a list, got {}",
                    arena.describe(fields[3])
                )));
            };
            arena.replace(target, Obj::Array(array))
        }
        _ => Err(bad(format!(
            "BUILD on {} is not supported",
            arena.describe(Item::Obj(target))
        ))),
    }
}

fn raw_array<'a>(
    dtype: Dtype,
    shape: Vec<usize>,
    fortran: bool,
    bytes: Cow<'a, [u8]>,
    offset: usize,
) -> Result<ArrayObj<'a>, ErrorKind> {
    numpy::check_raw(&dtype, &shape, bytes.len()).map_err(ErrorKind::InvalidArray)?;
    Ok(ArrayObj {
        dtype,
        shape,
        fortran,
        data: ArrayItems::Raw(bytes),
        offset,
    })
}

fn dtype_of(arena: &Arena<'_>, item: Item<'_>) -> Option<Dtype> {
    match item {
        Item::Obj(id) => match arena.obj(id) {
            Obj::Dtype(d) => Some(*d),
            _ => None,
        },
        _ => None,
    }
}

fn truth(item: Item<'_>) -> Option<bool> {
    match item {
        Item::Bool(b) => Some(b),
        Item::Int(i) => Some(i != 0),
        _ => None,
    }
}

fn shape_of(arena: &Arena<'_>, item: Item<'_>) -> Result<Vec<usize>, ErrorKind> {
    let dims = match item {
        Item::Tuple(start, len) => arena.tuple(start, len),
        Item::Int(_) => std::slice::from_ref(&item),
        other => {
            return Err(bad(format!(
                "a shape must be a tuple of ints, got {}",
                arena.describe(other)
            )))
        }
    };
    if dims.len() > MAX_DIMS {
        return Err(ErrorKind::InvalidArray(format!(
            "{} dimensions (numpy allows {MAX_DIMS})",
            dims.len()
        )));
    }
    dims.iter()
        .map(|&d| match d {
            Item::Int(i) => usize::try_from(i)
                .map_err(|_| ErrorKind::InvalidArray(format!("negative dimension {i}"))),
            other => Err(bad(format!(
                "a shape must be a tuple of ints, got an element {}",
                arena.describe(other)
            ))),
        })
        .collect()
}

/// `str.encode('latin1')`, refusing characters above U+00FF.
fn latin1(text: &str, encoding: &str) -> Option<Vec<u8>> {
    if !matches!(
        encoding.to_ascii_lowercase().as_str(),
        "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1"
    ) {
        return None;
    }
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// `numpy.core.multiarray.scalar(dtype, payload)`; `None` if the payload does not fit.
fn scalar<'a>(
    arena: &mut Arena<'a>,
    dtype: Dtype,
    payload: Item<'a>,
    offset: usize,
) -> Result<Option<Item<'a>>, ErrorKind> {
    if dtype.kind() == DtypeKind::Object {
        return Ok(Some(payload));
    }
    let Some(bytes) = arena.bytes_ref(payload) else {
        return Ok(None);
    };
    if bytes.len() != dtype.itemsize() {
        return Ok(None);
    }
    if let Some(bits) = scalar_bits(&dtype, bytes) {
        return Ok(Some(Item::Scalar(dtype, bits)));
    }
    let Some(bytes) = arena.bytes_of(payload)? else {
        return Ok(None);
    };
    let item = match dtype.kind() {
        DtypeKind::Unicode => {
            let Some(text) = numpy::utf32(&bytes, dtype.byte_order() == ByteOrder::Big) else {
                return Ok(None);
            };
            arena.alloc(Obj::Str(text))?
        }
        DtypeKind::Bytes => {
            let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
            arena.alloc(Obj::Bytes(bytes[..end].to_vec()))?
        }
        // Complex, datetime, long double and void scalars stay raw, as 0-d arrays.
        _ => arena.alloc(Obj::Array(ArrayObj {
            dtype,
            shape: Vec::new(),
            fortran: false,
            data: ArrayItems::Raw(bytes),
            offset,
        }))?,
    };
    Ok(Some(item))
}

/// The canonical bits of a bool, integer or float scalar (see `Scalar::from_bits`).
#[inline]
pub(crate) fn scalar_bits(dtype: &Dtype, b: &[u8]) -> Option<u64> {
    let big = dtype.byte_order() == ByteOrder::Big;
    macro_rules! read {
        ($t:ty) => {{
            let a = b.try_into().ok()?;
            if big {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            }
        }};
    }
    Some(match (dtype.kind(), b.len()) {
        (DtypeKind::Bool, 1) => u64::from(b[0] != 0),
        (DtypeKind::Int, 1) => i64::from(b[0] as i8) as u64,
        (DtypeKind::Int, 2) => i64::from(read!(i16)) as u64,
        (DtypeKind::Int, 4) => i64::from(read!(i32)) as u64,
        (DtypeKind::Int, 8) => read!(i64) as u64,
        (DtypeKind::UInt, 1) => u64::from(b[0]),
        (DtypeKind::UInt, 2) => u64::from(read!(u16)),
        (DtypeKind::UInt, 4) => u64::from(read!(u32)),
        (DtypeKind::UInt, 8) => read!(u64),
        (DtypeKind::Float, 2) => numpy::f16_to_f64(read!(u16)).to_bits(),
        (DtypeKind::Float, 4) => f64::from(read!(f32)).to_bits(),
        (DtypeKind::Float, 8) => read!(f64).to_bits(),
        _ => return None,
    })
}
