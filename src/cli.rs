//! Raw command-line arguments (clap). Nothing here is validated beyond what
//! clap checks; `config` turns these plus `parity.toml` into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "parity",
    version,
    about = "Proves a database reads the same way through two ORM schema mappings (Prisma → Drizzle).",
    long_about = None,
    after_help = "Exit codes: 0 parity holds, 1 differences or regression found, 2 usage, config, connection or other error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Config file [default: ./parity.toml]
    #[arg(long, global = true, env = "PARITY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report directory [default: reports/<UTC timestamp>/, also reachable as reports/latest]
    #[arg(long, global = true, env = "PARITY_OUT", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors on stderr
    #[arg(long, short, global = true, env = "PARITY_QUIET")]
    pub quiet: bool,
    /// Colour on stderr
    #[arg(long, global = true, env = "PARITY_COLOR", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Connections per side (parallel chunk readers)
    #[arg(long, short, global = true, env = "PARITY_JOBS", value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mappings vs mappings vs the live catalog and migration tables
    Schema(SchemaArgs),
    /// Data parity: every paired table read through both mappings
    Check(CheckArgs),
    /// Paired query timing from queries/
    Timing(TimingArgs),
    /// A database against its restored copy, or against a manifest
    Backup(BackupArgs),
    /// Write a manifest of per-chunk hashes for a database
    Manifest(ManifestArgs),
    /// The pre-deployment gate: schema + check + timing, per repository
    Run(RunArgs),
    /// Create and fill the bike-shop fixture schema in a database
    Seed(SeedArgs),
    /// Zero-setup run on an embedded SQLite copy of the fixture
    Demo(DemoArgs),
}

/// Narrowing shared by the commands that read tables.
#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Only these tables (physical names, optionally schema-qualified), comma-separated
    #[arg(
        long,
        env = "PARITY_TABLES",
        value_delimiter = ',',
        value_name = "TABLES"
    )]
    pub tables: Vec<String>,
    /// Only this rollout phase's tables, from [[repository]] in the config
    #[arg(long, env = "PARITY_REPOSITORY", value_name = "NAME")]
    pub repository: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Print one mapping as resolved (schema.prisma file or folder, DMMF JSON, drizzle snapshot or exporter JSON) and exit
    #[arg(long, env = "PARITY_SHOW_MAPPING", value_name = "PATH")]
    pub show_mapping: Option<PathBuf>,
    /// With --show-mapping: print JSON in the corpus tables.json form
    #[arg(long, env = "PARITY_JSON")]
    pub json: bool,
    /// Treat shape differences as findings (exit 1)
    #[arg(long, env = "PARITY_STRICT")]
    pub strict: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Differences listed per table in differences.csv (true counts stay in parity.csv)
    #[arg(long, env = "PARITY_MAX_DIFFERENCES", value_name = "N")]
    pub max_differences: Option<usize>,
    /// Include row values in reports (customer data is personal data: off by default)
    #[arg(long, env = "PARITY_SHOW_VALUES")]
    pub show_values: bool,
    /// Rows per chunk
    #[arg(long, env = "PARITY_CHUNK_ROWS", value_name = "N")]
    pub chunk_rows: Option<usize>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TimingArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Only these operations (names), comma-separated
    #[arg(
        long,
        env = "PARITY_OPERATIONS",
        value_delimiter = ',',
        value_name = "NAMES"
    )]
    pub operations: Vec<String>,
    /// Folder of operation files [default: queries/ beside the config]
    #[arg(long, env = "PARITY_QUERIES", value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// Measured iterations per side
    #[arg(long, env = "PARITY_ITERATIONS", value_name = "N")]
    pub iterations: Option<usize>,
    /// Warm-up iterations per side
    #[arg(long, env = "PARITY_WARMUP", value_name = "N")]
    pub warmup: Option<usize>,
    /// Keep iterating until at least this long has passed per operation (e.g. 5s)
    #[arg(long, env = "PARITY_MIN_TIME", value_name = "DURATION")]
    pub min_time: Option<String>,
    /// Concurrent clients per side
    #[arg(long, env = "PARITY_CONCURRENCY", value_name = "C")]
    pub concurrency: Option<usize>,
    /// Independent blocks the iterations are split into, each with fresh sessions and its own warm-up
    #[arg(long, env = "PARITY_BLOCKS", value_name = "N")]
    pub blocks: Option<usize>,
    /// Record EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the median iteration per side
    #[arg(long, env = "PARITY_EXPLAIN")]
    pub explain: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct BackupArgs {
    /// The original database (URL, or env var holding it)
    #[arg(long, env = "PARITY_SOURCE_URL", value_name = "URL")]
    pub source: Option<String>,
    /// The restored copy
    #[arg(long, env = "PARITY_TARGET_URL", value_name = "URL")]
    pub target: Option<String>,
    /// Verify the target against this manifest instead of a source database
    #[arg(long, env = "PARITY_MANIFEST", value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Database schemas to compare, comma-separated
    #[arg(
        long,
        env = "PARITY_SCHEMAS",
        value_delimiter = ',',
        default_value = "public"
    )]
    pub schemas: Vec<String>,
    /// Tables to leave out, comma-separated
    #[arg(long, env = "PARITY_EXCLUDE", value_delimiter = ',')]
    pub exclude: Vec<String>,
    #[arg(long, env = "PARITY_MAX_DIFFERENCES", value_name = "N")]
    pub max_differences: Option<usize>,
    #[arg(long, env = "PARITY_SHOW_VALUES")]
    pub show_values: bool,
    #[arg(long, env = "PARITY_CHUNK_ROWS", value_name = "N")]
    pub chunk_rows: Option<usize>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ManifestArgs {
    /// The database to describe (URL, or env var holding it)
    #[arg(
        long,
        env = "PARITY_URL",
        value_name = "URL",
        required_unless_present = "export_csv"
    )]
    pub url: Option<String>,
    /// Where to write the manifest (with --export-csv: the manifest to read)
    #[arg(long, env = "PARITY_MANIFEST", value_name = "PATH")]
    pub manifest: PathBuf,
    /// Read the manifest at --manifest instead, and export it as CSV files into DIR
    #[arg(long, value_name = "DIR")]
    pub export_csv: Option<PathBuf>,
    /// Also store a 16-byte hash per row, so differences can be named down to the key
    #[arg(long, env = "PARITY_ROW_HASHES")]
    pub row_hashes: bool,
    /// Print the snapshot id first on stdout and hold the snapshot open until stdin closes (for pg_dump --snapshot)
    #[arg(long, env = "PARITY_EXPORT_SNAPSHOT")]
    pub export_snapshot: bool,
    #[arg(
        long,
        env = "PARITY_SCHEMAS",
        value_delimiter = ',',
        default_value = "public"
    )]
    pub schemas: Vec<String>,
    #[arg(long, env = "PARITY_EXCLUDE", value_delimiter = ',')]
    pub exclude: Vec<String>,
    #[arg(long, env = "PARITY_CHUNK_ROWS", value_name = "N")]
    pub chunk_rows: Option<usize>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Only this rollout phase
    #[arg(long, env = "PARITY_REPOSITORY", value_name = "NAME")]
    pub repository: Option<String>,
    #[arg(long, env = "PARITY_ITERATIONS", value_name = "N")]
    pub iterations: Option<usize>,
    #[arg(long, env = "PARITY_WARMUP", value_name = "N")]
    pub warmup: Option<usize>,
    #[arg(long, env = "PARITY_STRICT")]
    pub strict: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SeedArgs {
    /// Database to create and fill (postgres://, mysql:// or sqlite:)
    #[arg(long, env = "PARITY_URL", value_name = "URL")]
    pub url: String,
    /// Number of transactions; the other tables scale with it
    #[arg(long, env = "PARITY_ROWS", default_value_t = 1000)]
    pub rows: u64,
    /// Seed for every generated value
    #[arg(long, env = "PARITY_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Planted differences: kind:N[,kind:N…][,table:NAME], kind = changed|deleted|inserted, N a count or N%
    #[arg(long, env = "PARITY_DRIFT", value_name = "SPEC")]
    pub drift: Option<String>,
    /// Migrations recorded as applied: all, none, or up to a tag
    #[arg(
        long,
        env = "PARITY_MIGRATIONS",
        default_value = "all",
        value_name = "all|none|TAG"
    )]
    pub migrations: String,
    /// Seed a database that already has tables (drops the fixture's tables first)
    #[arg(long, env = "PARITY_FORCE")]
    pub force: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DemoArgs {
    /// Transactions in the embedded fixture
    #[arg(long, env = "PARITY_ROWS", default_value_t = 2000)]
    pub rows: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        let a = Cli::try_parse_from(["parity", "--quiet", "--jobs", "3", "check"]).unwrap();
        let b = Cli::try_parse_from(["parity", "check", "--quiet", "--jobs", "3"]).unwrap();
        assert!(a.global.quiet && b.global.quiet);
        assert_eq!(a.global.jobs, Some(3));
        assert_eq!(b.global.jobs, Some(3));
    }
}
