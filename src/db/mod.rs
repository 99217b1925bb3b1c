//! The public checkpoint: its one canonical schema, the writer, the logical digest, the
//! data dictionary and verification.

pub mod digest;
pub mod promote;
pub mod schema;
pub mod step;
pub mod table_rows;
pub mod verify;
pub mod writer;
