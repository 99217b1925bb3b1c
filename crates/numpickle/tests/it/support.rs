//! Fixture loading, exact comparison against the expected JSON, and a reference pruner.

use std::path::PathBuf;

use numpickle::{DtypeKind, ScalarValue, Value};
use serde_json::Value as Json;

/// The committed fixture directory of the package under test: cargo's run-time
/// `CARGO_MANIFEST_DIR` first, since a test binary compiled in another checkout that shares
/// the target directory (a clean clone's acceptance run) can be reused here and carries that
/// checkout's compile-time path.
pub fn data_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/data")
}

/// One fixture pickle.
pub struct Fixture {
    pub case: String,
    pub file: String,
    pub bytes: Vec<u8>,
}

/// All fixture pickles, sorted by file name.
pub fn fixtures() -> Vec<Fixture> {
    let mut out: Vec<Fixture> = std::fs::read_dir(data_dir())
        .expect("tests/data exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pkl"))
        .map(|p| {
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            Fixture {
                case: file.split('.').next().unwrap().to_owned(),
                bytes: std::fs::read(&p).expect("fixture readable"),
                file,
            }
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    assert_eq!(
        out.len(),
        5 * 2 * 4,
        "5 cases x 2 numpy versions x 4 protocols"
    );
    out
}

/// The fixtures of one case.
pub fn case(name: &str) -> Vec<Fixture> {
    fixtures().into_iter().filter(|f| f.case == name).collect()
}

/// The expected values of a case.
pub fn expected(case: &str) -> Json {
    let text = std::fs::read_to_string(data_dir().join(format!("{case}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn float_of(j: &Json) -> f64 {
    match j {
        Json::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => panic!("bad float string {other}"),
        },
        Json::Number(n) => n.as_f64().unwrap(),
        other => panic!("bad float {other}"),
    }
}

fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bigint_text(bytes: &[u8]) -> String {
    assert!(bytes.len() <= 16, "test big ints fit in i128");
    let fill = if bytes.last().is_some_and(|&b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut buf = [fill; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    i128::from_le_bytes(buf).to_string()
}

/// Asserts that `v` is exactly the value `e` encodes (see make_pickles.py).
pub fn check(v: &Value<'_>, e: &Json, at: &str) {
    let fail = |what: &str| -> ! { panic!("{at}: {what}: got {v:?}, expected {e}") };
    match e {
        Json::Null => assert!(matches!(v, Value::None), "{at}: expected None, got {v:?}"),
        Json::Bool(b) => assert_eq!(v, &Value::Bool(*b), "{at}"),
        Json::Object(map) => {
            let (tag, inner) = map.iter().next().expect("tagged value");
            match (tag.as_str(), v) {
                ("int", Value::Int(i)) => {
                    assert_eq!(i.to_string(), inner.as_str().unwrap(), "{at}")
                }
                ("int", Value::BigInt(b)) => {
                    assert_eq!(bigint_text(b), inner.as_str().unwrap(), "{at}")
                }
                ("float", Value::Float(x)) => {
                    if !same_float(*x, float_of(inner)) {
                        fail("float differs")
                    }
                }
                ("str", Value::Str(s)) => assert_eq!(s, inner.as_str().unwrap(), "{at}"),
                ("bytes", Value::Bytes(b)) => assert_eq!(hex(b), inner.as_str().unwrap(), "{at}"),
                ("bytearray", Value::ByteArray(b)) => {
                    assert_eq!(hex(b), inner.as_str().unwrap(), "{at}")
                }
                ("list", Value::List(xs))
                | ("tuple", Value::Tuple(xs))
                | ("set", Value::Set(xs))
                | ("frozenset", Value::FrozenSet(xs)) => {
                    let es = inner.as_array().unwrap();
                    assert_eq!(xs.len(), es.len(), "{at}: length");
                    for (i, (x, e)) in xs.iter().zip(es).enumerate() {
                        check(x, e, &format!("{at}[{i}]"));
                    }
                }
                ("dict", Value::Dict(entries)) => {
                    let es = inner.as_array().unwrap();
                    assert_eq!(entries.len(), es.len(), "{at}: dict size");
                    for ((k, x), e) in entries.iter().zip(es) {
                        let pair = e.as_array().unwrap();
                        check(k, &pair[0], &format!("{at}.<key>"));
                        check(x, &pair[1], &format!("{at}.{}", key_label(k)));
                    }
                }
                ("dtype", Value::Dtype(d)) => assert_eq!(d.to_string(), inner.as_str().unwrap()),
                ("scalar", Value::Scalar(s)) => {
                    assert_eq!(
                        s.dtype().to_string(),
                        inner["dtype"].as_str().unwrap(),
                        "{at}"
                    );
                    let want = &inner["value"];
                    let ok = match s.value() {
                        ScalarValue::Float(x) => same_float(x, float_of(want)),
                        ScalarValue::Int(i) => want.as_i64() == Some(i),
                        ScalarValue::UInt(u) => want.as_u64() == Some(u),
                        ScalarValue::Bool(b) => want.as_bool() == Some(b),
                    };
                    if !ok {
                        fail("scalar differs")
                    }
                }
                ("array", Value::Array(a)) => {
                    assert_eq!(
                        a.dtype().to_string(),
                        inner["dtype"].as_str().unwrap(),
                        "{at}"
                    );
                    let shape: Vec<usize> = inner["shape"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d.as_u64().unwrap() as usize)
                        .collect();
                    assert_eq!(a.shape(), &shape[..], "{at}: shape");
                    assert_eq!(a.is_fortran(), inner["fortran"].as_bool().unwrap(), "{at}");
                    let values = inner["values"].as_array().unwrap();
                    assert_eq!(a.len(), values.len(), "{at}: len");
                    match a.dtype().kind() {
                        DtypeKind::Float => {
                            let got = a.to_f64_vec().unwrap();
                            for (i, (g, w)) in got.iter().zip(values).enumerate() {
                                assert!(same_float(*g, float_of(w)), "{at}[{i}]: {g} vs {w}");
                            }
                        }
                        DtypeKind::UInt => {
                            let got = a.to_u64_vec().unwrap();
                            let want: Vec<u64> =
                                values.iter().map(|w| w.as_u64().unwrap()).collect();
                            assert_eq!(got, want, "{at}");
                        }
                        DtypeKind::Int | DtypeKind::Bool => {
                            let got = a.to_i64_vec().unwrap();
                            let want: Vec<i64> =
                                values.iter().map(|w| w.as_i64().unwrap()).collect();
                            assert_eq!(got, want, "{at}");
                        }
                        DtypeKind::Unicode => {
                            let got = a.to_string_vec().unwrap();
                            let want: Vec<&str> =
                                values.iter().map(|w| w.as_str().unwrap()).collect();
                            assert_eq!(got, want, "{at}");
                        }
                        DtypeKind::Object => {
                            let numpickle::ArrayData::Objects(items) = a.data() else {
                                fail("object array without objects")
                            };
                            for (i, (x, w)) in items.iter().zip(values).enumerate() {
                                check(x, w, &format!("{at}[{i}]"));
                            }
                        }
                        other => panic!("{at}: no check for {other:?}"),
                    }
                }
                _ => fail("wrong kind"),
            }
        }
        other => panic!("{at}: unexpected JSON {other}"),
    }
}

fn key_label(k: &Value<'_>) -> String {
    match k {
        Value::Str(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// The value a selective decode of `paths` must give: the full value with every dict value
/// that is neither selected nor on the way to a selection replaced by `Skipped`.
pub fn prune<'a>(full: &Value<'a>, paths: &[&str]) -> Value<'a> {
    if paths.iter().any(|p| p.is_empty()) {
        return full.clone();
    }
    let split: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
    let refs: Vec<&[&str]> = split.iter().map(|v| &v[..]).collect();
    prune_at(full, &refs)
}

fn prune_at<'a>(v: &Value<'a>, rests: &[&[&str]]) -> Value<'a> {
    let Value::Dict(entries) = v else {
        return v.clone();
    };
    let mut out = Vec::new();
    for (k, x) in entries {
        let one = Value::Dict(vec![(k.clone(), Value::None)]);
        let matching: Vec<&[&str]> = rests
            .iter()
            .filter(|r| one.get(r[0]).is_some())
            .map(|r| &r[1..])
            .collect();
        let pruned = if matching.is_empty() {
            Value::Skipped
        } else if matching.iter().any(|r| r.is_empty()) {
            x.clone()
        } else {
            prune_at(x, &matching)
        };
        out.push((k.clone(), pruned));
    }
    Value::Dict(out)
}

/// Structural equality that treats NaN as equal to NaN (via `Debug`, which also keeps -0.0
/// distinct).
pub fn same(a: &Value<'_>, b: &Value<'_>) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// A tiny pickle assembler for hand-made (and hostile) inputs.
#[derive(Clone, Default)]
pub struct Asm(pub Vec<u8>);

impl Asm {
    /// `PROTO n`.
    pub fn proto(n: u8) -> Asm {
        Asm(vec![0x80, n])
    }

    /// Raw opcode bytes.
    pub fn op(mut self, bytes: &[u8]) -> Asm {
        self.0.extend_from_slice(bytes);
        self
    }

    /// `SHORT_BINUNICODE` or `BINUNICODE`.
    pub fn str(mut self, s: &str) -> Asm {
        if s.len() < 256 {
            self.0.push(0x8c);
            self.0.push(s.len() as u8);
        } else {
            self.0.push(b'X');
            self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        }
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    /// `SHORT_BINBYTES` or `BINBYTES`.
    pub fn bytes(mut self, b: &[u8]) -> Asm {
        if b.len() < 256 {
            self.0.push(b'C');
            self.0.push(b.len() as u8);
        } else {
            self.0.push(b'B');
            self.0.extend_from_slice(&(b.len() as u32).to_le_bytes());
        }
        self.0.extend_from_slice(b);
        self
    }

    /// `BININT`.
    pub fn int(mut self, i: i32) -> Asm {
        self.0.push(b'J');
        self.0.extend_from_slice(&i.to_le_bytes());
        self
    }

    /// `BINFLOAT`.
    pub fn float(mut self, x: f64) -> Asm {
        self.0.push(b'G');
        self.0.extend_from_slice(&x.to_be_bytes());
        self
    }

    /// `GLOBAL module name` (protocols 0–3 spelling).
    pub fn global(mut self, module: &str, name: &str) -> Asm {
        self.0.push(b'c');
        self.0
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
        self
    }

    /// `STACK_GLOBAL` (protocol 4+ spelling).
    pub fn stack_global(self, module: &str, name: &str) -> Asm {
        self.str(module).str(name).op(&[0x93])
    }

    /// `BINGET i`.
    pub fn get(self, i: u8) -> Asm {
        self.op(&[b'h', i])
    }

    /// `MEMOIZE`.
    pub fn memoize(self) -> Asm {
        self.op(&[0x94])
    }

    /// `STOP`.
    pub fn stop(self) -> Vec<u8> {
        self.op(b".").0
    }
}
