//! Turns the VM's arena graph into a [`Value`] tree, iteratively, under a nesting limit, a
//! budget on values and copied bytes, and the rest of the decode's memory budget (shared
//! memo references are expanded here, so a "billion laughs" pickle stops at the budget
//! instead of exhausting memory).

use std::borrow::Cow;
use std::mem::size_of;

use crate::budget::Budget;
use crate::error::{Error, ErrorKind};
use crate::item::{Arena, ArrayItems, Item, Obj};
use crate::names::{value_key, KeyNames};
use crate::numpy::{ArrayData, Dtype, NdArray};
use crate::value::{Scalar, Value};
use crate::Limits;

enum Kind {
    List,
    Tuple,
    Set,
    FrozenSet,
    Dict,
    /// An object array: everything but the elements being converted.
    ObjectArray {
        dtype: Dtype,
        shape: Vec<usize>,
        fortran: bool,
        offset: usize,
    },
}

struct Frame<'a, 'r> {
    kind: Kind,
    items: Items<'a, 'r>,
    next: usize,
    out: Vec<Value<'a>>,
}

enum Items<'a, 'r> {
    Seq(&'r [Item<'a>]),
    Pairs(&'r [(Item<'a>, Item<'a>)]),
}

impl<'a> Items<'a, '_> {
    fn len(&self) -> usize {
        match self {
            Items::Seq(s) => s.len(),
            Items::Pairs(p) => p.len() * 2,
        }
    }

    fn get(&self, i: usize) -> Item<'a> {
        match self {
            Items::Seq(s) => s[i],
            Items::Pairs(p) => {
                let (k, v) = p[i / 2];
                if i.is_multiple_of(2) {
                    k
                } else {
                    v
                }
            }
        }
    }
}

/// What converting one item gives: a finished value, or a container to descend into.
enum Step<'a, 'r> {
    Leaf(Value<'a>),
    Descend(Kind, Items<'a, 'r>),
}

struct Converter<'a, 'r> {
    arena: &'r Arena<'a>,
    /// What the arena holds, plus every value made so far.
    memory: Budget,
    values_left: usize,
    bytes_left: usize,
    value_budget: usize,
    byte_budget: usize,
}

/// Converts `root` to a `Value`; error paths name keys as `names` allows.
pub(crate) fn to_value<'a>(
    arena: &Arena<'a>,
    root: Item<'a>,
    limits: &Limits,
    input_len: usize,
    names: &KeyNames<'_>,
) -> Result<Value<'a>, Error> {
    let mut memory = arena.budget.clone();
    memory.charge(arena.footprint()).map_err(Error::new)?;
    let value_budget = input_len
        .saturating_mul(limits.values_per_input_byte)
        .saturating_add(limits.min_values);
    let byte_budget = input_len
        .saturating_mul(limits.values_per_input_byte)
        .saturating_add(limits.min_values);
    let mut conv = Converter {
        arena,
        memory,
        values_left: value_budget,
        bytes_left: byte_budget,
        value_budget,
        byte_budget,
    };
    let mut frames: Vec<Frame<'a, '_>> = Vec::new();
    let mut pending = root;
    loop {
        let step = conv
            .step(pending)
            .map_err(|kind| with_path(kind, &frames, names))?;
        let mut done = match step {
            Step::Leaf(v) => Some(v),
            Step::Descend(kind, items) => {
                if frames.len() >= limits.max_depth {
                    return Err(with_path(
                        ErrorKind::TooDeep {
                            limit: limits.max_depth,
                        },
                        &frames,
                        names,
                    ));
                }
                frames.push(Frame {
                    kind,
                    out: Vec::with_capacity(items.len()),
                    items,
                    next: 0,
                });
                None
            }
        };
        // Deliver finished values upwards until some frame has another item to convert.
        loop {
            let Some(frame) = frames.last_mut() else {
                return Ok(done.expect("the root value is finished"));
            };
            if let Some(v) = done.take() {
                frame.out.push(v);
            }
            if frame.next < frame.items.len() {
                pending = frame.items.get(frame.next);
                frame.next += 1;
                break;
            }
            let frame = frames.pop().expect("frame exists");
            done = Some(Converter::finish(frame));
        }
    }
}

impl<'a, 'r> Converter<'a, 'r> {
    fn count(&mut self) -> Result<(), ErrorKind> {
        self.values_left = self.values_left.checked_sub(1).ok_or(ErrorKind::TooLarge {
            limit: self.value_budget,
        })?;
        self.memory.charge(size_of::<Value<'a>>())
    }

    fn copied(&mut self, n: usize) -> Result<(), ErrorKind> {
        self.bytes_left = self.bytes_left.checked_sub(n).ok_or(ErrorKind::TooLarge {
            limit: self.byte_budget,
        })?;
        self.memory.charge(n)
    }

    fn cow<T: ?Sized + ToOwned>(
        &mut self,
        c: &Cow<'a, T>,
        len: usize,
    ) -> Result<Cow<'a, T>, ErrorKind> {
        if let Cow::Owned(_) = c {
            self.copied(len)?;
        }
        Ok(c.clone())
    }

    fn step(&mut self, item: Item<'a>) -> Result<Step<'a, 'r>, ErrorKind> {
        self.count()?;
        let arena = self.arena;
        Ok(Step::Leaf(match item {
            Item::None => Value::None,
            Item::Bool(b) => Value::Bool(b),
            Item::Int(i) => Value::Int(i),
            Item::Float(x) => Value::Float(x),
            Item::BigInt(b) => Value::BigInt(Cow::Borrowed(b)),
            Item::Str(s) => Value::Str(Cow::Borrowed(s)),
            Item::Bytes(b) => Value::Bytes(Cow::Borrowed(b)),
            Item::ByteArray(b) => Value::ByteArray(Cow::Borrowed(b)),
            Item::Scalar(dtype, bits) => Value::Scalar(Scalar::from_bits(dtype, bits)),
            Item::Skipped | Item::SkippedDict { .. } => Value::Skipped,
            Item::Tuple(start, len) => {
                return Ok(Step::Descend(
                    Kind::Tuple,
                    Items::Seq(arena.tuple(start, len)),
                ))
            }
            Item::Global(g) => {
                return Err(ErrorKind::BadOperand(format!(
                    "the global `{}` itself is not a value this reader can return",
                    g.name()
                )))
            }
            Item::Obj(id) => match arena.obj(id) {
                Obj::List(v) => return Ok(Step::Descend(Kind::List, Items::Seq(v))),
                Obj::Set(v) => return Ok(Step::Descend(Kind::Set, Items::Seq(v))),
                Obj::FrozenSet(v) => return Ok(Step::Descend(Kind::FrozenSet, Items::Seq(v))),
                Obj::Dict(d) => return Ok(Step::Descend(Kind::Dict, Items::Pairs(&d.entries))),
                Obj::Dtype(d) => Value::Dtype(*d),
                Obj::PendingArray => {
                    return Err(ErrorKind::InvalidArray(
                        "an ndarray from `_reconstruct` never got its BUILD state".into(),
                    ))
                }
                Obj::Array(a) => match &a.data {
                    ArrayItems::Objects(items) => {
                        self.memory.charge(
                            size_of::<NdArray<'a>>() + a.shape.len() * size_of::<usize>(),
                        )?;
                        let kind = Kind::ObjectArray {
                            dtype: a.dtype,
                            shape: a.shape.clone(),
                            fortran: a.fortran,
                            offset: a.offset,
                        };
                        return Ok(Step::Descend(kind, Items::Seq(items)));
                    }
                    ArrayItems::Raw(bytes) => {
                        self.memory.charge(
                            size_of::<NdArray<'a>>() + a.shape.len() * size_of::<usize>(),
                        )?;
                        let data = ArrayData::Raw(self.cow(bytes, bytes.len())?);
                        Value::Array(Box::new(NdArray::from_parts(
                            a.dtype,
                            a.shape.clone(),
                            a.fortran,
                            data,
                            a.offset,
                        )))
                    }
                },
                Obj::Str(s) => {
                    self.copied(s.len())?;
                    Value::Str(Cow::Owned(s.clone()))
                }
                Obj::Bytes(b) => {
                    self.copied(b.len())?;
                    Value::Bytes(Cow::Owned(b.clone()))
                }
                Obj::ByteArray(b) => {
                    self.copied(b.len())?;
                    Value::ByteArray(Cow::Owned(b.clone()))
                }
                Obj::Skipped => Value::Skipped,
            },
        }))
    }

    fn finish(frame: Frame<'a, '_>) -> Value<'a> {
        let out = frame.out;
        match frame.kind {
            Kind::List => Value::List(out),
            Kind::Tuple => Value::Tuple(out),
            Kind::Set => Value::Set(out),
            Kind::FrozenSet => Value::FrozenSet(out),
            Kind::Dict => {
                let mut pairs = Vec::with_capacity(out.len() / 2);
                let mut it = out.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Value::Dict(pairs)
            }
            Kind::ObjectArray {
                dtype,
                shape,
                fortran,
                offset,
            } => Value::Array(Box::new(NdArray::from_parts(
                dtype,
                shape,
                fortran,
                ArrayData::Objects(out),
                offset,
            ))),
        }
    }
}

/// Attaches the path of the frames being converted (`a.b[3].c`, keys named as `names`
/// allows) to an error.
fn with_path(kind: ErrorKind, frames: &[Frame<'_, '_>], names: &KeyNames<'_>) -> Error {
    let mut path = String::new();
    for frame in frames {
        let index = frame.next.saturating_sub(1);
        match frame.kind {
            // Keys and values alternate in `out`; while a value converts, its key is last.
            Kind::Dict if index % 2 == 1 => {
                if let Some(key) = frame.out.last() {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&names.segment(Some(value_key(key)), Some(index / 2)));
                }
            }
            Kind::Dict => {}
            _ => path.push_str(&format!("[{index}]")),
        }
    }
    Error::new(kind).in_path(path)
}
