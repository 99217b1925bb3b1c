//! The process's peak resident set size, from `getrusage(2)`.

use std::os::raw::{c_int, c_long};

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
    fn getrusage(who: c_int, usage: *mut Rusage) -> c_int;
}

const RUSAGE_SELF: c_int = 0;

/// Peak resident set size of this process so far, in MiB.
pub fn peak_rss_mib() -> f64 {
    let zero = || Timeval { _sec: 0, _usec: 0 };
    let mut usage = Rusage {
        _utime: zero(),
        _stime: zero(),
        maxrss: 0,
        _rest: [0; 13],
    };
    // SAFETY: `usage` is a valid, writable `struct rusage` for this platform.
    let rc = unsafe { getrusage(RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    usage.maxrss as f64 / 1024.0
}
