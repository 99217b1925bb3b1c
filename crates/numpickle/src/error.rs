//! Errors: [`Error`] says where decoding failed (byte offset, opcode, key path) and why
//! ([`ErrorKind`]); [`PathError`] explains a failed [`Value::at`](crate::Value::at) lookup.
//!
//! No message carries text read from the pickle except the names of refused globals
//! (clipped, with control characters escaped): key paths show only the keys of the
//! expected layout (see the crate docs, "Error messages"), and operands are described by
//! type and shape, never by value.

use std::fmt;

use crate::opcode;

/// A decoding or conversion error, with the byte offset, opcode and key path where it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    offset: Option<usize>,
    opcode: Option<u8>,
    path: String,
    kind: ErrorKind,
}

/// Why decoding or converting failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends inside an opcode or before `STOP`.
    Truncated,
    /// A byte that is no pickle opcode.
    UnknownOpcode(u8),
    /// A real opcode this reader does not implement (protocol 0/1 text, persistent ids,
    /// extension codes, out-of-band buffers, arbitrary object construction).
    UnsupportedOpcode(u8),
    /// A `PROTO` newer than 5.
    UnsupportedProtocol(u8),
    /// A global other than the numpy, `_codecs` and `builtins` ones this reader models.
    RefusedGlobal {
        /// The module part, e.g. `os`.
        module: String,
        /// The attribute part, e.g. `system`.
        name: String,
    },
    /// An opcode needed more stack items than there are (above the innermost `MARK`).
    StackUnderflow,
    /// An opcode that needs a `MARK` found none.
    MissingMark,
    /// A memo reference to an index that was never stored.
    MissingMemo(u64),
    /// An opcode or callable got operands of the wrong type or shape.
    BadOperand(String),
    /// An ndarray whose shape, dtype and payload do not agree.
    InvalidArray(String),
    /// A dtype this reader cannot represent or convert.
    UnsupportedDtype(String),
    /// An array or value that cannot be converted as asked.
    Conversion(String),
    /// Containers nested deeper than the limit (or a container that contains itself).
    TooDeep {
        /// The nesting limit in force.
        limit: usize,
    },
    /// Shared references would expand to more values than the budget allows.
    TooLarge {
        /// The budget in values (or bytes, for copied payloads).
        limit: usize,
    },
    /// Decoding would hold more memory than the budget of
    /// [`Limits::memory_per_input_byte`](crate::Limits::memory_per_input_byte) times the
    /// input length plus [`Limits::min_memory`](crate::Limits::min_memory).
    MemoryBudget {
        /// The budget in bytes.
        limit: usize,
        /// The input length in bytes.
        input: usize,
        /// Bytes allowed per input byte.
        per_input_byte: usize,
        /// Bytes allowed whatever the input length.
        base: usize,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error {
            offset: None,
            opcode: None,
            path: String::new(),
            kind,
        }
    }

    pub(crate) fn at(mut self, offset: usize, opcode: Option<u8>) -> Self {
        self.offset = Some(offset);
        self.opcode = opcode;
        self
    }

    pub(crate) fn in_path(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    /// Byte offset in the input of the opcode (or array) that failed, if known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// The opcode byte being executed when decoding failed.
    pub fn opcode(&self) -> Option<u8> {
        self.opcode
    }

    /// The `pickletools` name of [`Error::opcode`], e.g. `"REDUCE"`.
    pub fn opcode_name(&self) -> Option<&'static str> {
        self.opcode.and_then(opcode::name)
    }

    /// The dotted key path of the value being decoded, e.g. `subjectwise_stats.test.labels`;
    /// empty at the top level. Keys outside the expected layout read `<key #i>` (the i-th
    /// key of its dict) or `<key>`, never their text (see the crate docs, "Error messages").
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.offset, self.path.is_empty()) {
            (Some(offset), false) => write!(f, "at byte {offset} ({}): ", self.path)?,
            (Some(offset), true) => write!(f, "at byte {offset}: ")?,
            (None, false) => write!(f, "in `{}`: ", self.path)?,
            (None, true) => {}
        }
        let op = self.opcode_name().unwrap_or("opcode");
        match &self.kind {
            ErrorKind::Truncated => write!(f, "input ends inside `{op}` (truncated pickle)"),
            ErrorKind::UnknownOpcode(b) => write!(f, "unknown opcode byte 0x{b:02x}"),
            ErrorKind::UnsupportedOpcode(b) => write!(
                f,
                "opcode `{}` is not supported by this reader",
                opcode::name(*b).unwrap_or("?")
            ),
            ErrorKind::UnsupportedProtocol(p) => {
                write!(f, "pickle protocol {p} is not supported (at most 5)")
            }
            ErrorKind::RefusedGlobal { module, name } => write!(
                f,
                "refused global `{}.{}`: only numpy arrays, dtypes and scalars are allowed",
                clip(module),
                clip(name)
            ),
            ErrorKind::MemoryBudget {
                limit,
                input,
                per_input_byte,
                base,
            } => write!(
                f,
                "decoding needs more than {} bytes of memory ({per_input_byte} × the {}-byte \
                 input + {}); refusing a pickle that amplifies itself",
                thousands(*limit),
                thousands(*input),
                size(*base)
            ),
            ErrorKind::StackUnderflow => write!(f, "stack underflow in `{op}`"),
            ErrorKind::MissingMark => write!(f, "`{op}` needs a MARK but there is none"),
            ErrorKind::MissingMemo(i) => write!(f, "`{op}` refers to memo index {i}, never stored"),
            ErrorKind::BadOperand(msg) => write!(f, "`{op}`: {msg}"),
            ErrorKind::InvalidArray(msg) => write!(f, "invalid ndarray: {msg}"),
            ErrorKind::UnsupportedDtype(msg) => write!(f, "unsupported dtype: {msg}"),
            ErrorKind::Conversion(msg) => f.write_str(msg),
            ErrorKind::TooDeep { limit } => write!(
                f,
                "containers nested deeper than {limit} levels (or a container that contains itself)"
            ),
            ErrorKind::TooLarge { limit } => write!(
                f,
                "shared references expand to more than {limit} values; refusing to decode"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Shortens attacker-controlled names for messages and escapes their control characters
/// (a pickle can put terminal escape sequences in a global's name).
fn clip(s: &str) -> String {
    const MAX: usize = 120;
    let mut end = s.len().min(MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 1);
    for c in s[..end].chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if end < s.len() {
        out.push('…');
    }
    out
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count in MiB when it is a whole number of them, else in bytes.
fn size(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", thousands(bytes / MIB))
    } else {
        format!("{} bytes", thousands(bytes))
    }
}

/// A failed [`Value::at`](crate::Value::at) lookup: which key was missing where, and what
/// was there instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    parent: String,
    key: String,
    reason: PathErrorReason,
}

/// Why a dotted-path lookup failed. The lookup path is the caller's text; nothing read
/// from the pickle is kept but counts and type descriptions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathErrorReason {
    /// The dict has no such key.
    MissingKey {
        /// How many keys the dict has (their texts are data and are not kept).
        keys: usize,
    },
    /// The value at the parent path is not a dict; this describes it (e.g. `int64[62]`).
    NotADict {
        /// [`Value::describe`](crate::Value::describe) of the value found.
        found: String,
    },
    /// The value at the parent path was skipped by selective decoding.
    Skipped,
}

impl PathError {
    pub(crate) fn new(parent: String, key: &str, reason: PathErrorReason) -> Self {
        PathError {
            parent,
            key: key.to_owned(),
            reason,
        }
    }

    /// The dotted path that was resolved before the failing key (empty for the top level).
    pub fn parent(&self) -> &str {
        &self.parent
    }

    /// The key that could not be looked up.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Why the lookup failed.
    pub fn reason(&self) -> &PathErrorReason {
        &self.reason
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = if self.parent.is_empty() {
            "the top-level dict".to_owned()
        } else {
            format!("`{}`", self.parent)
        };
        match &self.reason {
            PathErrorReason::MissingKey { keys: 0 } => {
                write!(f, "key `{}` not found in {place}: it is empty", self.key)
            }
            PathErrorReason::MissingKey { keys } => write!(
                f,
                "key `{}` not found in {place}: the dict has {keys} key{}, none is `{}`",
                self.key,
                if *keys == 1 { "" } else { "s" },
                self.key
            ),
            PathErrorReason::NotADict { found } => write!(
                f,
                "cannot look up `{}` in {place}: it is {found}, not a dict",
                self.key
            ),
            PathErrorReason::Skipped => write!(
                f,
                "cannot look up `{}` in {place}: it was skipped by selective decoding \
                 (add the path to the decoded paths)",
                self.key
            ),
        }
    }
}

impl std::error::Error for PathError {}
