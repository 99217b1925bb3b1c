//! A hostile pickle in a store: the 1 MB amplification bomb (`builtins.bytearray` called
//! 2,000 times on one memoized 1 MiB payload) fails its run with the memory budget, and
//! `mlrepro extract` stays far below the 2 GB the copies would take.

use std::os::raw::{c_int, c_long};

use crate::golden;
use crate::support::{copy_dir, mlrepro_process, repo_root, ProjectConfig};

const MIB: usize = 1 << 20;

/// `bytearray(b'x' * 1 MiB)` 2,000 times: memo 0 is `builtins.bytearray`, memo 1 the
/// payload, memo 2 the argument tuple; then `BINGET 0, BINGET 2, REDUCE, POP` 2,000 times.
fn bytearray_bomb() -> Vec<u8> {
    let mut out = b"\x80\x04".to_vec();
    for name in ["builtins", "bytearray"] {
        out.push(0x8c);
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
    }
    out.extend_from_slice(b"\x93\x940");
    out.push(b'B');
    out.extend_from_slice(&(MIB as u32).to_le_bytes());
    out.extend(std::iter::repeat_n(b'x', MIB));
    out.extend_from_slice(b"\x94\x85\x940");
    for _ in 0..2000 {
        out.extend_from_slice(b"h\x00h\x02R0");
    }
    out.extend_from_slice(b"N.");
    out
}

#[repr(C)]
struct Timeval {
    _sec: c_long,
    _usec: c_long,
}

/// `struct rusage` on Linux (x86_64 and aarch64): two `timeval`s, then 14 `long`s.
#[repr(C)]
struct Rusage {
    _utime: Timeval,
    _stime: Timeval,
    /// Peak resident set size in KiB.
    maxrss: c_long,
    _rest: [c_long; 13],
}

extern "C" {
    fn wait4(pid: c_int, status: *mut c_int, options: c_int, usage: *mut Rusage) -> c_int;
}

/// Waits for `child` and returns its exit code and its own peak RSS in MiB (`wait4` gives
/// that child's usage alone: `RUSAGE_CHILDREN` would count the children of every test
/// running in this process).
fn wait_with_peak_rss(child: std::process::Child) -> (Option<i32>, f64) {
    let zero = || Timeval { _sec: 0, _usec: 0 };
    let mut usage = Rusage {
        _utime: zero(),
        _stime: zero(),
        maxrss: 0,
        _rest: [0; 13],
    };
    let mut status: c_int = 0;
    let pid = c_int::try_from(child.id()).unwrap();
    // SAFETY: `status` and `usage` are valid and writable; `pid` is our unreaped child.
    let rc = unsafe { wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed");
    let code = (status & 0x7f == 0).then_some((status >> 8) & 0xff);
    (code, usage.maxrss as f64 / 1024.0)
}

#[test]
fn a_1_mb_pickle_that_amplifies_itself_fails_its_run_not_the_machine() {
    let store = tempfile::tempdir().unwrap();
    let fixture = repo_root().join("tests/fixtures/filestore/mlruns");
    let mlruns = store.path().join("mlruns");
    copy_dir(&fixture, &mlruns);
    let runs = golden::manifest_runs("filestore");
    let victim = runs
        .iter()
        .find(|r| r.expected == "included" && r.pickle.is_some())
        .expect("an included run with a pickle");
    let relative = victim
        .pickle
        .as_ref()
        .unwrap()
        .strip_prefix(&fixture)
        .unwrap();
    let bomb = bytearray_bomb();
    assert!(bomb.len() < 1_100_000, "{} bytes", bomb.len());
    std::fs::write(mlruns.join(relative), &bomb).unwrap();
    // The fixture's own failing runs are allowed; the bomb is one failure too many.
    let allowed = runs.iter().filter(|r| r.expected == "failed").count();

    let project = ProjectConfig::store(mlruns.display())
        .max_failed_runs(allowed)
        .write();
    let stderr_path = project.path().join("stderr.txt");
    let child = mlrepro_process(project.path())
        .args(["-c", "config.yaml", "-j", "2", "extract"])
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let (code, peak_mib) = wait_with_peak_rss(child);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains(&victim.run_id))
        .unwrap_or_else(|| panic!("no line names run {}:\n{stderr}", victim.run_id));
    let limit = 4 * bomb.len() + 64 * MIB;
    let digits = limit.to_string();
    let grouped: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert!(
        line.contains(&format!(
            "decoding needs more than {} bytes of memory (4 × the",
            grouped.join(",")
        )) && line.contains("-byte input + 64 MiB)"),
        "{line}"
    );
    assert!(peak_mib < 600.0, "extract peaked at {peak_mib:.0} MiB");
}
