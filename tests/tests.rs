//! parity's integration tests: one binary, one module per feature. They run
//! the real binary against real PostgreSQL, MariaDB and SQLite databases;
//! each test creates its own database and drops it. Servers come from
//! `PARITY_TEST_PG_URL` and `PARITY_TEST_MYSQL_URL` (default: the local
//! services that `scripts/services.sh` starts). What the modules share —
//! running the binary and reading its reports, temporary databases, config
//! texts, a private PostgreSQL cluster — is in `support/`.

mod backup;
mod check;
mod cli;
mod corpus_drizzle;
mod corpus_prisma;
mod faults;
mod fidelity;
mod first_hour;
mod mysql;
mod observe;
mod oracle;
mod prometheus;
mod pushdown;
mod run;
mod schema;
mod seed;
mod shard;
mod support;
mod timing;
