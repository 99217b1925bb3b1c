//! The opcode loop: reading operands, the stack and its marks, containers, calls and the
//! memo.

use std::collections::HashMap;
use std::mem::size_of;

use crate::budget::Budget;
use crate::error::{Error, ErrorKind};
use crate::item::{Arena, Completeness, DictObj, Global, Item, Memo, MemoEntry, Obj, Slot};
use crate::names::KeyNames;
use crate::opcode as op;
use crate::reduce;
use crate::select::{Sel, Selection};

/// CPython's pickler writes dict items in batches of this many per `SETITEMS`.
const CPYTHON_BATCH: usize = 1000;

/// Opcodes between two measurements of the VM's tables against the memory budget; one
/// opcode adds at most a few hundred bytes to them, so the budget is overrun by little.
const MEMORY_CHECK_EVERY: u32 = 64;

/// Why the VM stopped without a result.
pub(crate) enum Fault {
    /// The input is malformed or not allowed.
    Invalid(ErrorKind),
    /// Selective decoding skipped something that turned out to be needed.
    Mispredict,
}

impl From<ErrorKind> for Fault {
    fn from(kind: ErrorKind) -> Self {
        Fault::Invalid(kind)
    }
}

/// The container kinds that batches of items go into.
#[derive(Clone, Copy)]
enum Kind {
    List,
    Set,
    Dict,
}

/// A failed run: an error with its location, or a misprediction to retry without skipping.
pub(crate) enum Failure {
    Error(Error),
    Mispredict,
}

pub(super) type Res<T> = Result<T, Fault>;

#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    /// Stack length when the `MARK` was pushed.
    pub(super) pos: usize,
    /// The path node of the dict just below the mark (its `SETITEMS` batch), if any.
    pub(super) frame: Option<u32>,
}

pub(crate) struct Vm<'a, 's> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) op_start: usize,
    pub(super) op: Option<u8>,
    pub(super) stack: Vec<Slot<'a>>,
    pub(super) marks: Vec<Mark>,
    pub(super) memo: Memo<'a>,
    pub(super) arena: Arena<'a>,
    pub(super) selection: &'s Selection,
    pub(super) names: KeyNames<'s>,
    pub(super) root_sel: Sel,
    /// Pruned copies of fully built dicts, by (dict, path node).
    pub(super) pruned: HashMap<(u32, u32), Item<'a>>,
}

impl<'a, 's> Vm<'a, 's> {
    /// Runs the pickle to `STOP` within `budget`, returning the top-level item and the arena
    /// it refers to; error paths name keys as `names` allows.
    pub(crate) fn run(
        data: &'a [u8],
        selection: &'s Selection,
        names: KeyNames<'s>,
        budget: Budget,
    ) -> Result<(Item<'a>, Arena<'a>), Failure> {
        let mut vm = Vm {
            data,
            pos: 0,
            op_start: 0,
            op: None,
            stack: Vec::with_capacity(64),
            marks: Vec::with_capacity(16),
            memo: Memo::default(),
            arena: Arena::new(budget),
            selection,
            names,
            root_sel: selection.root(),
            pruned: HashMap::new(),
        };
        match vm.exec() {
            Ok(root) => Ok((root, vm.arena)),
            Err(Fault::Mispredict) => Err(Failure::Mispredict),
            Err(Fault::Invalid(kind)) => Err(Failure::Error(
                Error::new(kind)
                    .at(vm.op_start, vm.op)
                    .in_path(vm.current_path()),
            )),
        }
    }

    fn exec(&mut self) -> Res<Item<'a>> {
        let mut until_check = 0u32;
        loop {
            if until_check == 0 {
                self.check_memory()?;
                until_check = MEMORY_CHECK_EVERY;
            }
            until_check -= 1;
            self.op_start = self.pos;
            let Some(&code) = self.data.get(self.pos) else {
                self.op = None;
                return Err(ErrorKind::Truncated.into());
            };
            self.op = Some(code);
            self.pos += 1;
            match code {
                op::BININT1 => {
                    let [b] = self.bytes::<1>()?;
                    self.push(Item::Int(b.into()));
                }
                op::BININT2 => {
                    let v = u16::from_le_bytes(self.bytes()?);
                    self.push(Item::Int(v.into()));
                }
                op::BININT => {
                    let v = i32::from_le_bytes(self.bytes()?);
                    self.push(Item::Int(v.into()));
                }
                op::LONG1 => {
                    let [n] = self.bytes::<1>()?;
                    let b = self.take(n.into())?;
                    self.push_long(b);
                }
                op::LONG4 => {
                    let n = i32::from_le_bytes(self.bytes()?);
                    let n = usize::try_from(n)
                        .map_err(|_| ErrorKind::BadOperand(format!("negative length {n}")))?;
                    let b = self.take(n)?;
                    self.push_long(b);
                }
                op::BINFLOAT => {
                    let v = f64::from_be_bytes(self.bytes()?);
                    self.push(Item::Float(v));
                }
                op::NONE => self.push(Item::None),
                op::NEWTRUE => self.push(Item::Bool(true)),
                op::NEWFALSE => self.push(Item::Bool(false)),
                op::SHORT_BINUNICODE => {
                    let [n] = self.bytes::<1>()?;
                    let b = self.take(n.into())?;
                    self.push_str(b)?;
                }
                op::BINUNICODE => {
                    let n = self.len32()?;
                    let b = self.take(n)?;
                    self.push_str(b)?;
                }
                op::BINUNICODE8 => {
                    let n = self.len64()?;
                    let b = self.take(n)?;
                    self.push_str(b)?;
                }
                op::SHORT_BINBYTES => {
                    let [n] = self.bytes::<1>()?;
                    let b = self.take(n.into())?;
                    self.push(Item::Bytes(b));
                }
                op::BINBYTES => {
                    let n = self.len32()?;
                    let b = self.take(n)?;
                    self.push(Item::Bytes(b));
                }
                op::BINBYTES8 => {
                    let n = self.len64()?;
                    let b = self.take(n)?;
                    self.push(Item::Bytes(b));
                }
                op::BYTEARRAY8 => {
                    let n = self.len64()?;
                    let b = self.take(n)?;
                    self.push(Item::ByteArray(b));
                }
                op::EMPTY_LIST => self.push_container(|_| Obj::List(Vec::new()))?,
                op::EMPTY_SET => self.push_container(|_| Obj::Set(Vec::new()))?,
                op::EMPTY_DICT => self.push_container(|sel| {
                    Obj::Dict(DictObj {
                        entries: Vec::new(),
                        sel,
                        open: true,
                    })
                })?,
                op::EMPTY_TUPLE => self.push(Item::Tuple(0, 0)),
                op::TUPLE1 => self.tuple_n(1)?,
                op::TUPLE2 => self.tuple_n(2)?,
                op::TUPLE3 => self.tuple_n(3)?,
                op::MARK => {
                    let frame = self.stack.last().and_then(|top| match top.item {
                        Item::Obj(id) => match self.arena.obj(id) {
                            Obj::Dict(d) => d.sel.node(),
                            _ => None,
                        },
                        _ => None,
                    });
                    self.marks.push(Mark {
                        pos: self.stack.len(),
                        frame,
                    });
                }
                op::TUPLE => {
                    let m = self.pop_mark()?;
                    let sel = self.sel_at(m);
                    let item = self.make_tuple(m, sel)?;
                    self.stack.truncate(m);
                    self.stack.push(Slot { item, sel });
                }
                op::LIST | op::FROZENSET => {
                    let m = self.pop_mark()?;
                    let sel = self.sel_at(m);
                    let item = if sel == Sel::SKIP {
                        Item::Skipped
                    } else {
                        self.require_complete(m)?;
                        let items = self.stack[m..].iter().map(|s| s.item).collect();
                        self.arena.alloc(if code == op::LIST {
                            Obj::List(items)
                        } else {
                            Obj::FrozenSet(items)
                        })?
                    };
                    self.stack.truncate(m);
                    self.stack.push(Slot { item, sel });
                }
                op::DICT => {
                    let m = self.pop_mark()?;
                    let sel = self.sel_at(m);
                    let item = if sel == Sel::SKIP {
                        Item::SkippedDict { open: false }
                    } else {
                        let id = self.arena.alloc_id(Obj::Dict(DictObj {
                            entries: Vec::new(),
                            sel,
                            open: false,
                        }))?;
                        self.insert_pairs(id, m)?;
                        Item::Obj(id)
                    };
                    self.stack.truncate(m);
                    self.stack.push(Slot { item, sel });
                }
                op::APPEND => {
                    let x = self.pop()?;
                    let target = self.top()?;
                    if let Some(id) = self.container(target.item, Kind::List)? {
                        self.check_complete(x.item)?;
                        self.arena.charge_items(1)?;
                        if let Obj::List(items) = self.arena.obj_mut(id) {
                            items.push(x.item);
                        }
                    }
                }
                op::APPENDS | op::ADDITEMS => {
                    let m = self.pop_mark()?;
                    let target = self.slot_below(m)?;
                    let kind = if code == op::APPENDS {
                        Kind::List
                    } else {
                        Kind::Set
                    };
                    if let Some(id) = self.container(target.item, kind)? {
                        self.require_complete(m)?;
                        self.arena.charge_items(self.stack.len() - m)?;
                        let (stack, arena) = (&self.stack, &mut self.arena);
                        if let Obj::List(items) | Obj::Set(items) = arena.obj_mut(id) {
                            items.extend(stack[m..].iter().map(|s| s.item));
                        }
                    }
                    self.stack.truncate(m);
                }
                op::SETITEM => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let target = self.top()?;
                    match self.container(target.item, Kind::Dict)? {
                        Some(id) => {
                            self.dict_insert(id, key.item, value.item)?;
                            if let Obj::Dict(d) = self.arena.obj_mut(id) {
                                d.open = false;
                            }
                        }
                        None => self.close_skipped_dict(self.stack.len() - 1, false),
                    }
                }
                op::SETITEMS => {
                    let m = self.pop_mark()?;
                    let target = self.slot_below(m)?;
                    match self.container(target.item, Kind::Dict)? {
                        Some(id) => {
                            let pairs = self.insert_pairs(id, m)?;
                            if let Obj::Dict(d) = self.arena.obj_mut(id) {
                                d.open = pairs == CPYTHON_BATCH;
                            }
                        }
                        None if !(self.stack.len() - m).is_multiple_of(2) => {
                            return Err(odd_items())
                        }
                        None => {
                            let pairs = (self.stack.len() - m) / 2;
                            self.close_skipped_dict(m - 1, pairs == CPYTHON_BATCH);
                        }
                    }
                    self.stack.truncate(m);
                }
                op::GLOBAL => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let global = resolve(module, name)?;
                    self.push(Item::Global(global));
                }
                op::STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.top()?;
                    let (Some(m), Some(n)) =
                        (self.arena.str_of(module.item), self.arena.str_of(name.item))
                    else {
                        return Err(ErrorKind::BadOperand(format!(
                            "expects module and name strings, got {} and {}",
                            self.arena.describe(module.item),
                            self.arena.describe(name.item)
                        ))
                        .into());
                    };
                    let global = resolve(m, n)?;
                    self.set_top(Item::Global(global));
                }
                op::REDUCE => {
                    let args = self.pop()?;
                    let callable = self.top()?;
                    let result = self.reduce(callable, args.item)?;
                    self.set_top(result);
                }
                op::BUILD => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    self.build(target, state.item)?;
                }
                op::MEMOIZE => {
                    let index = self.memo.len();
                    self.memoize(index)?;
                }
                op::BINPUT => {
                    let [i] = self.bytes::<1>()?;
                    self.memoize(i.into())?;
                }
                op::LONG_BINPUT => {
                    let i = u32::from_le_bytes(self.bytes()?);
                    self.memoize(i.into())?;
                }
                op::BINGET => {
                    let [i] = self.bytes::<1>()?;
                    self.memo_get(i.into())?;
                }
                op::LONG_BINGET => {
                    let i = u32::from_le_bytes(self.bytes()?);
                    self.memo_get(i.into())?;
                }
                op::POP => {
                    // As CPython: a POP right after a MARK discards the mark.
                    if self.marks.last().is_some_and(|m| m.pos == self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop()?;
                    }
                }
                op::POP_MARK => {
                    let m = self.pop_mark()?;
                    self.stack.truncate(m);
                }
                op::DUP => {
                    let top = self.top()?;
                    self.arena.pin(top.item);
                    self.push(top.item);
                }
                op::PROTO => {
                    let [v] = self.bytes::<1>()?;
                    if v > 5 {
                        return Err(ErrorKind::UnsupportedProtocol(v).into());
                    }
                }
                op::FRAME => {
                    self.bytes::<8>()?;
                }
                op::STOP => {
                    let root = self.pop()?;
                    return self.reconcile(root.item, self.root_sel);
                }
                op::INST => {
                    let module = self.line()?;
                    let name = self.line()?;
                    resolve(module, name)?;
                    return Err(ErrorKind::UnsupportedOpcode(code).into());
                }
                op::NEWOBJ
                | op::NEWOBJ_EX
                | op::OBJ
                | op::PERSID
                | op::BINPERSID
                | op::EXT1
                | op::EXT2
                | op::EXT4
                | op::NEXT_BUFFER
                | op::READONLY_BUFFER
                | op::INT
                | op::LONG
                | op::FLOAT
                | op::STRING
                | op::BINSTRING
                | op::SHORT_BINSTRING
                | op::UNICODE
                | op::GET
                | op::PUT => return Err(ErrorKind::UnsupportedOpcode(code).into()),
                other => return Err(ErrorKind::UnknownOpcode(other).into()),
            }
        }
    }

    // ----- reading the input -----

    #[inline]
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let data = self.data;
        if n > data.len() - self.pos {
            return Err(ErrorKind::Truncated.into());
        }
        let bytes = &data[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    #[inline]
    fn bytes<const N: usize>(&mut self) -> Res<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }

    fn len32(&mut self) -> Res<usize> {
        Ok(u32::from_le_bytes(self.bytes()?) as usize)
    }

    fn len64(&mut self) -> Res<usize> {
        let n = u64::from_le_bytes(self.bytes()?);
        usize::try_from(n).map_err(|_| ErrorKind::Truncated.into())
    }

    /// A newline-terminated UTF-8 line (the text arguments of `GLOBAL` and `INST`).
    fn line(&mut self) -> Res<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(ErrorKind::Truncated)?;
        self.pos += n + 1;
        std::str::from_utf8(&rest[..n])
            .map_err(|_| ErrorKind::BadOperand("a global name is not UTF-8".into()).into())
    }

    // ----- the stack -----

    #[inline]
    pub(super) fn fence(&self) -> usize {
        self.marks.last().map_or(0, |m| m.pos)
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Res<Slot<'a>> {
        if self.stack.len() <= self.fence() {
            return Err(ErrorKind::StackUnderflow.into());
        }
        Ok(self.stack.pop().expect("stack is above the fence"))
    }

    #[inline]
    pub(super) fn top(&self) -> Res<Slot<'a>> {
        if self.stack.len() <= self.fence() {
            return Err(ErrorKind::StackUnderflow.into());
        }
        Ok(*self.stack.last().expect("stack is above the fence"))
    }

    #[inline]
    fn set_top(&mut self, item: Item<'a>) {
        if let Some(top) = self.stack.last_mut() {
            top.item = item;
        }
    }

    fn pop_mark(&mut self) -> Res<usize> {
        self.marks
            .pop()
            .map(|m| m.pos)
            .ok_or_else(|| ErrorKind::MissingMark.into())
    }

    /// The slot just below a popped mark: the container a batch goes into.
    fn slot_below(&self, m: usize) -> Res<Slot<'a>> {
        if m == 0 || m <= self.fence() {
            return Err(ErrorKind::StackUnderflow.into());
        }
        Ok(self.stack[m - 1])
    }

    /// The selection of the result that replaces `stack[m..]`.
    fn sel_at(&self, m: usize) -> Sel {
        match self.stack.get(m) {
            Some(slot) => slot.sel,
            None => self.push_sel(),
        }
    }

    #[inline]
    fn push(&mut self, item: Item<'a>) {
        let sel = self.push_sel();
        self.stack.push(Slot { item, sel });
    }

    fn push_container(&mut self, make: impl FnOnce(Sel) -> Obj<'a>) -> Res<()> {
        let sel = self.push_sel();
        let item = if sel == Sel::SKIP {
            match make(sel) {
                Obj::Dict(_) => Item::SkippedDict { open: true },
                _ => Item::Skipped,
            }
        } else {
            self.arena.alloc(make(sel))?
        };
        self.stack.push(Slot { item, sel });
        Ok(())
    }

    fn push_str(&mut self, bytes: &'a [u8]) -> Res<()> {
        let sel = self.push_sel();
        if sel == Sel::SKIP && bytes.len() > reduce::SMALL_PAYLOAD {
            // Protocol 2 spells array payloads as latin-1 text; stepping over them is what
            // makes skipping cheap. A long string cannot name an allowed global.
            self.stack.push(Slot {
                item: Item::Skipped,
                sel,
            });
            return Ok(());
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => self.stack.push(Slot {
                item: Item::Str(s),
                sel,
            }),
            // Python writes lone surrogates with `surrogatepass`; Rust strings cannot hold
            // them, so they become U+FFFD.
            Err(_) => {
                let s = String::from_utf8_lossy(bytes).into_owned();
                let item = self.arena.alloc(Obj::Str(s))?;
                self.push(item);
            }
        }
        Ok(())
    }

    /// Records whether the skipped dict at stack position `at` may still take a batch, as
    /// `SETITEM(S)` does for built dicts (error paths read it).
    fn close_skipped_dict(&mut self, at: usize, open: bool) {
        if let Item::SkippedDict { .. } = self.stack[at].item {
            self.stack[at].item = Item::SkippedDict { open };
        }
    }

    /// Fails if the VM's tables (stack, marks, memo, object table, tuple buffer, pruned
    /// copies) and what the arena holds exceed the memory budget.
    #[inline]
    fn check_memory(&self) -> Res<()> {
        let tables = self.stack.capacity() * size_of::<Slot<'a>>()
            + self.marks.capacity() * size_of::<Mark>()
            + self.memo.footprint()
            + self.arena.footprint()
            + self.pruned.capacity() * size_of::<((u32, u32), Item<'a>)>();
        Ok(self.arena.budget.ensure(tables)?)
    }

    fn push_long(&mut self, bytes: &'a [u8]) {
        let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
        let fill = if negative { 0xff } else { 0 };
        let fits = bytes.len() <= 8
            || (bytes[8..].iter().all(|&b| b == fill) && (bytes[7] & 0x80 != 0) == negative);
        if fits {
            let mut buf = [fill; 8];
            let n = bytes.len().min(8);
            buf[..n].copy_from_slice(&bytes[..n]);
            self.push(Item::Int(i64::from_le_bytes(buf)));
        } else {
            self.push(Item::BigInt(bytes));
        }
    }

    // ----- containers -----

    /// The arena id of the container a batch goes into, `None` for a skipped container.
    fn container(&self, item: Item<'a>, kind: Kind) -> Res<Option<u32>> {
        let fits = |obj: &Obj<'a>| {
            matches!(
                (kind, obj),
                (Kind::List, Obj::List(_)) | (Kind::Set, Obj::Set(_)) | (Kind::Dict, Obj::Dict(_))
            )
        };
        match item {
            Item::Skipped | Item::SkippedDict { .. } => Ok(None),
            Item::Obj(id) => match self.arena.obj(id) {
                Obj::Skipped => Ok(None),
                obj if fits(obj) => Ok(Some(id)),
                _ => Err(self.wrong_target(item, kind)),
            },
            _ => Err(self.wrong_target(item, kind)),
        }
    }

    fn wrong_target(&self, item: Item<'a>, kind: Kind) -> Fault {
        let wanted = match kind {
            Kind::List => "a list",
            Kind::Set => "a set",
            Kind::Dict => "a dict",
        };
        ErrorKind::BadOperand(format!(
            "needs {wanted}, found {}",
            self.arena.describe(item)
        ))
        .into()
    }

    fn tuple_n(&mut self, n: usize) -> Res<()> {
        if self.stack.len() < self.fence() + n {
            return Err(ErrorKind::StackUnderflow.into());
        }
        let base = self.stack.len() - n;
        let sel = self.stack[base].sel;
        let item = self.make_tuple(base, sel)?;
        self.stack.truncate(base);
        self.stack.push(Slot { item, sel });
        Ok(())
    }

    /// A tuple of `stack[base..]`; inside skipped values an incomplete tuple is skipped.
    fn make_tuple(&mut self, base: usize, sel: Sel) -> Res<Item<'a>> {
        let complete = self.stack[base..]
            .iter()
            .all(|s| self.arena.completeness(s.item) == Completeness::Full);
        if !complete {
            return if sel == Sel::SKIP {
                Ok(Item::Skipped)
            } else {
                Err(Fault::Mispredict)
            };
        }
        let (stack, arena) = (&self.stack, &mut self.arena);
        Ok(arena.push_tuple(stack[base..].iter().map(|s| s.item)))
    }

    /// Inserts `stack[m..]` as key/value pairs; returns the number of pairs.
    fn insert_pairs(&mut self, id: u32, m: usize) -> Res<usize> {
        let n = self.stack.len() - m;
        if !n.is_multiple_of(2) {
            return Err(odd_items());
        }
        for i in (m..self.stack.len()).step_by(2) {
            let (key, value) = (self.stack[i].item, self.stack[i + 1].item);
            self.dict_insert(id, key, value)?;
        }
        Ok(n / 2)
    }

    fn dict_insert(&mut self, id: u32, key: Item<'a>, value: Item<'a>) -> Res<()> {
        self.check_complete(key)?;
        let Obj::Dict(dict) = self.arena.obj(id) else {
            return Err(self.wrong_target(Item::Obj(id), Kind::Dict));
        };
        let expected = self.selection.child(dict.sel, self.arena.key(key));
        let value = self.reconcile(value, expected)?;
        self.arena.charge_entry()?;
        if let Obj::Dict(dict) = self.arena.obj_mut(id) {
            dict.entries.push((key, value));
        }
        Ok(())
    }

    // ----- calls -----

    fn reduce(&mut self, callable: Slot<'a>, args: Item<'a>) -> Res<Item<'a>> {
        let skip = callable.sel == Sel::SKIP;
        let global = match callable.item {
            Item::Global(g) => g,
            Item::Skipped | Item::SkippedDict { .. } if !skip => return Err(Fault::Mispredict),
            _ if skip => {
                self.arena.release(args);
                return Ok(Item::Skipped);
            }
            other => {
                return Err(ErrorKind::BadOperand(format!(
                    "needs a callable, found {}",
                    self.arena.describe(other)
                ))
                .into())
            }
        };
        let (start, len) = match args {
            Item::Tuple(start, len) => (start, len),
            Item::Skipped if skip => return Ok(Item::Skipped),
            Item::Skipped => return Err(Fault::Mispredict),
            other => {
                return Err(ErrorKind::BadOperand(format!(
                    "the arguments of `{}` must be a tuple, found {}",
                    global.name(),
                    self.arena.describe(other)
                ))
                .into())
            }
        };
        const MAX_ARGS: usize = 4;
        if len as usize > MAX_ARGS {
            if skip {
                self.arena.release(args);
                return Ok(Item::Skipped);
            }
            return Err(ErrorKind::BadOperand(format!(
                "`{}` takes at most {MAX_ARGS} arguments, got {len}",
                global.name()
            ))
            .into());
        }
        let mut buf = [Item::None; MAX_ARGS];
        let n = len as usize;
        buf[..n].copy_from_slice(self.arena.tuple(start, len));
        self.arena.release(args);
        if skip && !reduce::cheap(global, &buf[..n], &self.arena) {
            return Ok(Item::Skipped);
        }
        Ok(reduce::call(
            global,
            &buf[..n],
            &mut self.arena,
            self.op_start,
        )?)
    }

    fn build(&mut self, target: Slot<'a>, state: Item<'a>) -> Res<()> {
        let skip = target.sel == Sel::SKIP;
        match target.item {
            Item::Obj(id) if matches!(self.arena.obj(id), Obj::Dtype(_) | Obj::PendingArray) => {
                match self.arena.completeness(state) {
                    Completeness::Full => {
                        reduce::build(&mut self.arena, id, state, self.op_start)?;
                    }
                    _ if skip => {
                        if matches!(self.arena.obj(id), Obj::PendingArray) {
                            *self.arena.obj_mut(id) = Obj::Skipped;
                        }
                    }
                    _ => return Err(Fault::Mispredict),
                }
            }
            Item::Skipped | Item::SkippedDict { .. } if skip => {}
            Item::Skipped | Item::SkippedDict { .. } => return Err(Fault::Mispredict),
            Item::Obj(id) if skip && matches!(self.arena.obj(id), Obj::Skipped) => {}
            other => {
                return Err(ErrorKind::BadOperand(format!(
                    "BUILD on {} is not supported",
                    self.arena.describe(other)
                ))
                .into())
            }
        }
        self.arena.release(state);
        Ok(())
    }

    // ----- the memo -----

    fn memoize(&mut self, index: u64) -> Res<()> {
        let top = self.top()?;
        let item = if top.sel == Sel::SKIP {
            // Tuples inside skipped values are argument lists; dropping them lets the tuple
            // buffer be reused.
            match top.item {
                Item::Tuple(..) => Item::Skipped,
                item => item,
            }
        } else {
            self.arena.pin(top.item);
            top.item
        };
        self.memo.put(index, item);
        Ok(())
    }

    fn memo_get(&mut self, index: u64) -> Res<()> {
        let item = match self.memo.get(index) {
            Some(MemoEntry::Item(Item::Global(Global::Scalar))) => {
                if self.fused_scalar()? {
                    return Ok(());
                }
                Item::Global(Global::Scalar)
            }
            Some(MemoEntry::Item(item)) => item,
            Some(MemoEntry::LazyScalar(offset)) => self.lazy_scalar(offset),
            None => return Err(ErrorKind::MissingMemo(index).into()),
        };
        self.push(item);
        Ok(())
    }
}

fn odd_items() -> Fault {
    ErrorKind::BadOperand("needs key/value pairs but got an odd number of items".into()).into()
}

fn resolve(module: &str, name: &str) -> Res<Global> {
    Global::resolve(module, name).ok_or_else(|| {
        ErrorKind::RefusedGlobal {
            module: module.to_owned(),
            name: name.to_owned(),
        }
        .into()
    })
}
