//! parity: proves a database reads the same way through two ORM schema
//! mappings.
//!
//! The data flow, one module per stage:
//! `mapping` (each ORM's view) → `plan` (pairs, keys, shapes) → `db`
//! (snapshot, chunked reads) → `canon` (ORM read semantics) → `engine`
//! (hash, merge-join compare) → `report` (csv, json, md, html, junit).
//! `timing`, `manifest` and `seed` reuse those stages; `pipeline` wires
//! them into the runs several commands share; `cmd` is one thin file per
//! subcommand over `cli`'s arguments. This file only names the modules.

pub mod canon;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod db;
pub mod engine;
pub mod exit;
pub mod limits;
pub mod manifest;
pub mod mapping;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod seed;
pub mod timing;
pub mod ui;

pub use cmd::main_entry;
