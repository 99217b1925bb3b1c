//! Times one pass of reading metrics pickles the way extraction does, for `make bench`.
//!
//! ```text
//! cargo run --release --example read_bench -- a.pickle b.pickle ...
//! ```
//!
//! Prints three totals in seconds, one pass each over every file, on one thread:
//! extraction's read path ([`mlrepro::extract::parse::read_run_pickle`]: memory map, selective
//! decode of [`SELECTED_PATHS`], validation and conversion to vectors), a selective decode of
//! the same paths from bytes read into one reused buffer, and a full decode from that buffer.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use mlrepro::extract::parse::{read_run_pickle, SELECTED_PATHS};

fn timed(pass: impl FnOnce()) -> f64 {
    let start = Instant::now();
    pass();
    start.elapsed().as_secs_f64()
}

fn read_each(files: &[String], mut decode: impl FnMut(&str, &[u8])) {
    let mut buf = Vec::new();
    for file in files {
        buf.clear();
        std::fs::File::open(file)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        decode(file, &buf);
    }
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: read_bench <pickle>...");
        std::process::exit(2);
    }
    let mapped = timed(|| {
        for file in &files {
            read_run_pickle(Path::new(file)).unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let decoder = numpickle::Decoder::new().paths(&SELECTED_PATHS);
    let buffered = timed(|| {
        read_each(&files, |file, bytes| {
            decoder
                .decode(bytes)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        })
    });
    let full = timed(|| {
        read_each(&files, |file, bytes| {
            numpickle::decode(bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        })
    });
    println!("{mapped:.4} {buffered:.4} {full:.4}");
}
