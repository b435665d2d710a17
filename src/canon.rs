//! (raw database value, ORM read mode) → canonical bytes.
