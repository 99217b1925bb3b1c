//! Integration tests: they run the built `mlrepro` binary on real fixtures.
//!
//! One test binary (every extra one would link DuckDB again), one module per area.

mod analyze;
mod checkpoint;
mod cli;
mod consistency;
mod crash;
mod delong;
mod extract;
mod golden;
mod hardening_misuse;
mod hardening_runner;
mod hostile_pickle;
mod inputs;
mod install;
mod keys;
mod layers;
mod messages;
mod pickles;
mod print;
mod privacy;
mod report;
mod runner;
mod support;
