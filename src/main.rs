//! The `mlrepro` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    mlrepro::run(std::env::args_os())
}
