//! Integration tests: real numpy pickles (numpy 1.x and 2.x, protocols 2–5), selective
//! decoding, refused globals, hostile input, mutation fuzzing, the memory budget and what
//! errors may show.

mod budget;
mod fixtures;
mod hostile;
mod mutations;
mod privacy;
mod refusal;
mod rusage;
mod selective;
mod support;
