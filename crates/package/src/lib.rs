//! The on-disk load package shared by normalize (which writes it) and load (which reads it), and the dlt
//! schema model it carries.

pub mod schema;
