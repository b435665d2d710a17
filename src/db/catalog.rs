//! Live catalog → [`crate::mapping::Mapping`] with raw database semantics,
//! and the ORMs' migration tables.
