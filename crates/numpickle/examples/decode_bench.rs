//! Times full and selective decoding of metrics pickles.
//!
//! ```text
//! python3 examples/make_bench_pickle.py /tmp/bench/metrics.p5.pkl
//! cargo run --release --example decode_bench -- /tmp/bench/metrics.p5.pkl [more.pkl ...]
//! cargo run --release --example decode_bench -- --totals a.pkl b.pkl   # one pass, totals only
//! ```
//!
//! Prints, per file, the best of several runs of a full decode and of a selective decode of
//! the paths Block 1 reads, in milliseconds and MB/s of input.

use std::time::{Duration, Instant};

/// The paths Block 1 reads from each metrics pickle.
const PATHS: [&str; 4] = [
    "subjectwise_stats.test",
    "metrics_stats.test.metrics.scalars",
    "metrics_iter.test.metrics.scalars",
    "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
];

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

/// One pass over every file, reading included (into one reused buffer, as `cat` reuses
/// its own): prints the total seconds of the selective decodes, then of the full decodes.
fn totals(files: &[String]) {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut pass = |decode: &dyn Fn(&[u8])| {
        let start = Instant::now();
        for file in files {
            buf.clear();
            std::fs::File::open(file)
                .and_then(|mut f| f.read_to_end(&mut buf))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            decode(&buf);
        }
        start.elapsed().as_secs_f64()
    };
    let decoder = numpickle::Decoder::new().paths(&PATHS);
    let selective = pass(&|b| {
        decoder.decode(b).expect("the pickle decodes");
    });
    let full = pass(&|b| {
        numpickle::decode(b).expect("the pickle decodes");
    });
    println!("{selective:.4} {full:.4}");
}

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.first().is_some_and(|f| f == "--totals") {
        files.remove(0);
        totals(&files);
        return;
    }
    if files.is_empty() {
        eprintln!("usage: decode_bench <pickle>...");
        std::process::exit(2);
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    println!(
        "{:<40} {:>8} {:>10} {:>10} {:>12} {:>12}",
        "file", "MB", "full ms", "full MB/s", "select ms", "select MB/s"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mb = bytes.len() as f64 / 1e6;
        // Selective first: a caller decodes many files this way, so the heap is not left in
        // the state of a preceding full decode.
        let decoder = numpickle::Decoder::new().paths(&PATHS);
        let (select, (value, stats)) = best_of(runs, || {
            decoder
                .decode_with_stats(&bytes)
                .unwrap_or_else(|e| panic!("{file}: {e}"))
        });
        for path in PATHS {
            if let Err(e) = value.at(path) {
                panic!("{file}: {e}");
            }
        }
        drop(value);
        let (full, value) = best_of(runs.div_ceil(4).max(2), || {
            numpickle::decode(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"))
        });
        drop(value);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let rate = |d: Duration| mb / d.as_secs_f64();
        println!(
            "{:<40} {:>8.1} {:>10.2} {:>10.0} {:>12.3} {:>12.0}{}",
            file,
            mb,
            ms(full),
            rate(full),
            ms(select),
            rate(select),
            if stats.fell_back {
                "  (fell back to a full decode)"
            } else {
                ""
            }
        );
    }
}
