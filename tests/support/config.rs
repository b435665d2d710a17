//! parity.toml texts: sides over the bike-shop fixture's mappings (its
//! PostgreSQL, MariaDB and SQLite flavours) or a test's own mapping files,
//! and the fixture's own config with absolute paths.

use std::path::{Path, PathBuf};

use super::{Backend, root};

/// Lets timing's write operations run (always rolled back) on a side.
pub const WRITES: &str = "allow_writes = true\n";

/// `fixtures/bikeshop`, or its `mariadb/` or `sqlite/` flavour.
pub fn fixture_dir(backend: Backend) -> PathBuf {
    let fx = root().join("fixtures/bikeshop");
    match backend {
        Backend::Postgres => fx,
        Backend::Mariadb => fx.join("mariadb"),
        Backend::Sqlite => fx.join("sqlite"),
    }
}

pub fn prisma_schema(backend: Backend) -> PathBuf {
    fixture_dir(backend).join("prisma/schema.prisma")
}

/// The Drizzle mapping: drizzle-kit's latest snapshot and the exporter's
/// read modes.
pub fn drizzle_files(backend: Backend) -> Vec<PathBuf> {
    let fx = fixture_dir(backend);
    vec![
        fx.join("drizzle/meta/0001_snapshot.json"),
        fx.join("drizzle/mapping.json"),
    ]
}

/// One `[source]` or `[target]` body; one mapping file is written as a
/// string, several as a list.
pub fn side(name: &str, orm: &str, url: &str, mapping: &[PathBuf]) -> String {
    let quoted: Vec<String> = mapping
        .iter()
        .map(|p| format!("\"{}\"", p.display()))
        .collect();
    let mapping = match &quoted[..] {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    format!("name = \"{name}\"\norm = \"{orm}\"\nurl = \"{url}\"\nmapping = {mapping}\n")
}

/// The fixture's Prisma side over `url`, named `prisma`.
pub fn prisma(backend: Backend, url: &str) -> String {
    side("prisma", "prisma", url, &[prisma_schema(backend)])
}

/// The fixture's Drizzle side over `url`, named `drizzle`.
pub fn drizzle(backend: Backend, url: &str) -> String {
    side("drizzle", "drizzle", url, &drizzle_files(backend))
}

pub fn text(source: &str, target: &str, extra: &str) -> String {
    format!("[source]\n{source}\n[target]\n{target}\n{extra}\n")
}

/// Writes `dir/parity.toml`.
pub fn write(dir: &Path, source: &str, target: &str, extra: &str) -> PathBuf {
    let p = dir.join("parity.toml");
    std::fs::write(&p, text(source, target, extra)).unwrap();
    p
}

/// The fixture's Prisma mapping against its Drizzle mapping, both over
/// `url`, writes allowed, plus `extra`.
pub fn fixture_pair(dir: &Path, backend: Backend, url: &str, extra: &str) -> PathBuf {
    let source = prisma(backend, url) + WRITES;
    write(dir, &source, &(drizzle(backend, url) + WRITES), extra)
}

/// `text` written as `dir/name`; its path.
pub fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// The fixture's PostgreSQL parity.toml with every path made absolute,
/// so it works from any folder.
pub fn fixture_text() -> String {
    let fx = fixture_dir(Backend::Postgres);
    let abs = |rel: &str| format!("\"{}/{rel}", fx.display());
    std::fs::read_to_string(fx.join("parity.toml"))
        .unwrap()
        .replace(
            "\"../../queries/",
            &format!("\"{}/", root().join("queries").display()),
        )
        .replace("\"prisma/", &abs("prisma/"))
        .replace("\"drizzle/", &abs("drizzle/"))
        .replace(
            "migrations = \"drizzle\"",
            &format!("migrations = {}\"", abs("drizzle")),
        )
}

/// The fixture's `[[repository]]` tables, paths absolute.
pub fn repositories() -> String {
    let text = fixture_text();
    text[text.find("[[repository]]").unwrap()..].to_string()
}
