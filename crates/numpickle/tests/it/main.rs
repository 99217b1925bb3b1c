//! Integration tests: real numpy pickles (numpy 1.x and 2.x, protocols 2–5), selective
//! decoding, refused globals, hostile input and mutation fuzzing.

mod fixtures;
mod hostile;
mod mutations;
mod refusal;
mod selective;
mod support;
