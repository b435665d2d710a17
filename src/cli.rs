//! Raw command-line arguments (clap). Nothing here is validated beyond what
//! clap checks; `config` turns these plus `parity.toml` into settings. Flags
//! several commands share are one `#[command(flatten)]` struct each.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::exit;
use crate::pipeline::CheckOptions;
pub use crate::ui::ColorChoice;

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

impl Cli {
    /// The process's arguments, or the exit code when there is nothing to
    /// run: 0 after `--help` or `--version` (printed), 2 after a usage
    /// error (printed as one line on stderr).
    pub fn from_args() -> Result<Cli, i32> {
        Cli::try_parse().map_err(|e| {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                exit::OK
            } else {
                // One line, like every other error: clap's own first line
                // (kept word for word) and its tip, without the usage block.
                eprintln!("{}", one_line_usage_error(&e.to_string()));
                exit::ERROR
            }
        })
    }
}

/// clap's error text as one line: its `error: …` line and any `tip:`.
fn one_line_usage_error(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    for l in lines {
        if let Some(tip) = l.strip_prefix("tip:") {
            out.push_str("; tip:");
            out.push_str(tip);
        }
    }
    out.push_str(" (parity --help lists the options)");
    out
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
    #[arg(long, short, global = true, env = "PARITY_JOBS", value_name = "N", value_parser = crate::limits::jobs, allow_negative_numbers = true)]
    pub jobs: Option<usize>,
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
    /// Production traffic: each ORM's statements in pg_stat_statements, per operation
    Observe(ObserveArgs),
    /// Combine the report folders of a sharded check (--shard I/N) into one report in --out
    Merge(MergeArgs),
}

// ---- flags several commands share -----------------------------------------

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

impl SelectArgs {
    pub fn selection(&self) -> crate::plan::Selection {
        crate::plan::Selection {
            tables: self.tables.clone(),
            repository: self.repository.clone(),
        }
    }
}

/// How the tables are read and what the reports may show (`check`, `backup`).
#[derive(Debug, Args, Clone, Default)]
pub struct ReadArgs {
    /// Differences listed per table in differences.csv (true counts stay in parity.csv) [default: 1000, or [check] max_differences]
    #[arg(long, env = "PARITY_MAX_DIFFERENCES", value_name = "N", value_parser = crate::limits::max_differences, allow_negative_numbers = true)]
    pub max_differences: Option<usize>,
    /// Include row values in reports (customer data is personal data: off by default)
    #[arg(long, env = "PARITY_SHOW_VALUES")]
    pub show_values: bool,
    /// Rows per chunk [default: 20000, or [check] chunk_rows]
    #[arg(long, env = "PARITY_CHUNK_ROWS", value_name = "N", value_parser = crate::limits::chunk_rows, allow_negative_numbers = true)]
    pub chunk_rows: Option<usize>,
}

impl ReadArgs {
    /// These flags and `--jobs`, over the `[check]` settings.
    pub fn check_options(&self, jobs: Option<usize>) -> CheckOptions {
        CheckOptions {
            jobs,
            chunk_rows: self.chunk_rows,
            max_differences: self.max_differences,
            show_values: self.show_values,
            shard: None,
            resume: false,
            mode: None,
        }
    }
}

/// `--mode`: one line naming the values on a typo.
fn parse_mode(s: &str) -> Result<crate::config::CheckMode, String> {
    crate::config::CheckMode::parse(s)
        .ok_or_else(|| format!("unknown mode {s:?}; use auto, client or pushdown"))
}

/// `--prometheus FILE`.
#[derive(Debug, Args, Clone, Default)]
pub struct PrometheusArg {
    /// Also write the results as Prometheus metrics (node_exporter textfile collector)
    #[arg(long, env = "PARITY_PROMETHEUS", value_name = "FILE")]
    pub prometheus: Option<PathBuf>,
}

/// Which operation files (`timing`, `observe`).
#[derive(Debug, Args, Clone, Default)]
pub struct OperationArgs {
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
}

/// How each operation is timed and judged (`timing`, `run`).
#[derive(Debug, Args, Clone, Default)]
pub struct IterationArgs {
    /// Measured iterations per side and operation [default: [timing] iterations, else 400]
    #[arg(long, env = "PARITY_ITERATIONS", value_name = "N", value_parser = crate::limits::iterations, allow_negative_numbers = true)]
    pub iterations: Option<usize>,
    /// Warm-up iterations per side, operation and block [default: [timing] warmup, else 10]
    #[arg(long, env = "PARITY_WARMUP", value_name = "N", value_parser = crate::limits::warmup, allow_negative_numbers = true)]
    pub warmup: Option<usize>,
    /// The slowdown margin: `slower` needs the whole 95% interval of the ratio above 1 + this [default: [timing] max_slowdown, else 0.10]
    #[arg(long, env = "PARITY_MAX_SLOWDOWN", value_name = "FRACTION", value_parser = crate::limits::max_slowdown, allow_negative_numbers = true)]
    pub max_slowdown: Option<f64>,
}

/// Which part of a database's catalog (`backup`, `manifest`).
#[derive(Debug, Args, Clone, Default)]
pub struct CatalogArgs {
    /// Database schemas to read, comma-separated
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
}

// ---- one struct per command ------------------------------------------------

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
    #[command(flatten)]
    pub read: ReadArgs,
    /// Where chunks are compared: auto (pushdown where exact, on PostgreSQL), client (ship every row) or pushdown [default: auto, or [check] mode]
    #[arg(long, env = "PARITY_MODE", value_name = "MODE", value_parser = parse_mode)]
    pub mode: Option<crate::config::CheckMode>,
    #[command(flatten)]
    pub prometheus: PrometheusArg,
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// Sharded runs (issue 15): `--shard I/N`, or `--shards N` with the index
/// from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job).
#[derive(Debug, Args, Clone, Default)]
pub struct ShardArgs {
    /// Read only this shard's chunks: I/N, zero-based (0/4 … 3/4); the report folder is marked partial, for `parity merge`
    #[arg(long, env = "PARITY_SHARD", value_name = "I/N")]
    pub shard: Option<String>,
    /// Number of shards, this one's index taken from JOB_COMPLETION_INDEX
    #[arg(
        long,
        env = "PARITY_SHARDS",
        value_name = "N",
        conflicts_with = "shard"
    )]
    pub shards: Option<usize>,
    /// Continue the check recorded in DIR (its journal.jsonl): read only the unfinished chunks, write the final reports in DIR
    #[arg(long, env = "PARITY_RESUME", value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

impl ShardArgs {
    /// The shard this run reads, if any; a usage error names the fix.
    pub fn shard(&self) -> anyhow::Result<Option<crate::engine::shard::Shard>> {
        use crate::engine::shard::Shard;
        if let Some(text) = &self.shard {
            return Shard::parse(text).map(Some).map_err(anyhow::Error::msg);
        }
        let Some(n) = self.shards else {
            return Ok(None);
        };
        let index = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
            anyhow::anyhow!(
                "--shards {n} takes this shard's index from JOB_COMPLETION_INDEX, which is not set; set it or use --shard I/{n}"
            )
        })?;
        let bad = || {
            anyhow::anyhow!(
                "JOB_COMPLETION_INDEX={index:?} is not a shard of --shards {n}; it must be a number from 0 to {}",
                n.saturating_sub(1)
            )
        };
        let i: usize = index.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n).map(Some).ok_or_else(bad)
    }
}

/// `parity merge DIR… --out DIR`.
#[derive(Debug, Args, Clone, Default)]
pub struct MergeArgs {
    /// The shards' report folders, one per shard
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TimingArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub ops: OperationArgs,
    #[command(flatten)]
    pub iterations: IterationArgs,
    /// Keep iterating until at least this long has passed per operation (e.g. 5s)
    #[arg(long, env = "PARITY_MIN_TIME", value_name = "DURATION")]
    pub min_time: Option<String>,
    /// Concurrent clients per side
    #[arg(long, env = "PARITY_CONCURRENCY", value_name = "C", value_parser = crate::limits::concurrency, allow_negative_numbers = true)]
    pub concurrency: Option<usize>,
    /// Independent blocks the iterations are split into, each with fresh sessions and its own warm-up
    #[arg(long, env = "PARITY_BLOCKS", value_name = "N")]
    pub blocks: Option<usize>,
    /// Record EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the median iteration per side
    #[arg(long, env = "PARITY_EXPLAIN")]
    pub explain: bool,
}

#[derive(Debug, Args, Clone, Default)]
// backup reads no config's [check]: its defaults are the built-in ones.
#[command(
    mut_arg("max_differences", |a| a.help("Differences listed per table in differences.csv (true counts stay in parity.csv) [default: 1000]")),
    mut_arg("chunk_rows", |a| a.help("Rows per chunk [default: 20000]")),
)]
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
    #[command(flatten)]
    pub catalog: CatalogArgs,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub prometheus: PrometheusArg,
    /// With --source: sequences must be equal (default: a finding only when the target's is behind; sequences are not transactional)
    #[arg(long, env = "PARITY_STRICT_SEQUENCES")]
    pub strict_sequences: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ManifestArgs {
    /// The database to describe (URL, or env var holding it)
    #[arg(
        long,
        env = "PARITY_URL",
        value_name = "URL",
        required_unless_present_any = ["export_csv", "verify"]
    )]
    pub url: Option<String>,
    /// Where to write the manifest (with --export-csv: the manifest to read)
    #[arg(long, env = "PARITY_MANIFEST", value_name = "PATH")]
    pub manifest: PathBuf,
    /// Read the manifest at --manifest instead, and export it as CSV files into DIR
    #[arg(long, value_name = "DIR")]
    pub export_csv: Option<PathBuf>,
    /// Read the manifest at --manifest instead, check its version and checksum, and exit (0 sound, 2 damaged)
    #[arg(long, conflicts_with = "export_csv")]
    pub verify: bool,
    /// Also store a 16-byte hash per row, so differences can be named down to the key
    #[arg(long, env = "PARITY_ROW_HASHES")]
    pub row_hashes: bool,
    /// Print the snapshot id first on stdout and hold the snapshot open until stdin closes (for pg_dump --snapshot)
    #[arg(long, env = "PARITY_EXPORT_SNAPSHOT")]
    pub export_snapshot: bool,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Rows per chunk [default: 20000]
    #[arg(long, env = "PARITY_CHUNK_ROWS", value_name = "N", value_parser = crate::limits::chunk_rows, allow_negative_numbers = true)]
    pub chunk_rows: Option<usize>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Only this rollout phase
    #[arg(long, env = "PARITY_REPOSITORY", value_name = "NAME")]
    pub repository: Option<String>,
    #[command(flatten)]
    pub iterations: IterationArgs,
    /// Treat schema shape differences as findings (NOT READY)
    #[arg(long, env = "PARITY_STRICT")]
    pub strict: bool,
    #[command(flatten)]
    pub prometheus: PrometheusArg,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SeedArgs {
    /// Database to create and fill (postgres://, mysql:// or sqlite:)
    #[arg(long, env = "PARITY_URL", value_name = "URL")]
    pub url: String,
    /// Number of transactions; the other tables scale with it
    #[arg(long, env = "PARITY_ROWS", default_value_t = 1000, value_parser = crate::limits::seed_rows, allow_negative_numbers = true)]
    pub rows: u64,
    /// Seed for every generated value
    #[arg(long, env = "PARITY_SEED", default_value_t = 1, value_parser = crate::limits::seed, allow_negative_numbers = true)]
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
    #[command(flatten)]
    pub unused: HiddenGlobals,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DemoArgs {
    /// Transactions in the embedded fixture
    #[arg(long, env = "PARITY_ROWS", default_value_t = 2000, value_parser = crate::limits::demo_rows, allow_negative_numbers = true)]
    pub rows: u64,
    #[command(flatten)]
    pub unused: HiddenGlobals,
}

/// The global `--config` and `--jobs`, hidden from the help of commands
/// they mean nothing to (`seed`, `demo`). An argument with the global's id
/// stops clap from propagating the global one, so it is still accepted
/// (and ignored) but not listed.
#[derive(Debug, Args, Clone, Default)]
pub struct HiddenGlobals {
    #[arg(
        long = "config",
        id = "config",
        hide = true,
        env = "PARITY_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    #[arg(
        long = "jobs",
        short = 'j',
        id = "jobs",
        hide = true,
        env = "PARITY_JOBS",
        value_name = "N"
    )]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ObserveArgs {
    /// The database to observe (URL, or env var holding it) [default: the config's [source] url]
    #[arg(long, env = "PARITY_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Read the statistics, wait this long (e.g. 25s, 10m), read them again, compare the window
    #[arg(long = "for", env = "PARITY_OBSERVE_FOR", value_name = "DURATION")]
    pub for_: Option<String>,
    /// Save a statistics snapshot to FILE and exit (compare later with --since FILE)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["for_", "since"])]
    pub save: Option<PathBuf>,
    /// Compare now against a snapshot saved with --save
    #[arg(long, value_name = "FILE", conflicts_with = "for_")]
    pub since: Option<PathBuf>,
    /// Only this rollout phase's operations
    #[arg(long, env = "PARITY_REPOSITORY", value_name = "NAME")]
    pub repository: Option<String>,
    #[command(flatten)]
    pub ops: OperationArgs,
    /// Fewer executions than this on a side: "not enough traffic", no verdict
    #[arg(long, env = "PARITY_MIN_CALLS", value_name = "N", default_value_t = 30)]
    pub min_calls: u64,
    /// List unmatched statements at or above this share of total time (0.01 = 1%)
    #[arg(
        long,
        env = "PARITY_MIN_SHARE",
        value_name = "FRACTION",
        default_value_t = 0.01
    )]
    pub min_share: f64,
    /// The slowdown margin [default: [timing] max_slowdown, else 0.10]
    #[arg(long, env = "PARITY_MAX_SLOWDOWN", value_name = "FRACTION", value_parser = crate::limits::max_slowdown, allow_negative_numbers = true)]
    pub max_slowdown: Option<f64>,
    /// The database role the source ORM (Prisma) connects as, when each ORM has its own
    #[arg(long, env = "PARITY_SOURCE_ROLE", value_name = "ROLE")]
    pub source_role: Option<String>,
    /// The database role the target ORM (Drizzle) connects as
    #[arg(long, env = "PARITY_TARGET_ROLE", value_name = "ROLE")]
    pub target_role: Option<String>,
    /// A report.json of `parity timing` or `run`, shown beside production per operation
    #[arg(long, env = "PARITY_STAGING", value_name = "FILE")]
    pub staging: Option<PathBuf>,
    #[command(flatten)]
    pub prometheus: PrometheusArg,
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
    fn seed_and_demo_do_not_list_config_or_jobs() {
        let mut cmd = Cli::command();
        cmd.build();
        for name in ["seed", "demo"] {
            let sub = cmd.find_subcommand_mut(name).unwrap();
            let help = sub.render_help().to_string();
            assert!(!help.contains("--config"), "{name}: {help}");
            assert!(!help.contains("--jobs"), "{name}: {help}");
        }
        let check = cmd.find_subcommand_mut("check").unwrap();
        let help = check.render_long_help().to_string();
        assert!(help.contains("--config"), "{help}");
        assert!(help.contains("--jobs"), "{help}");
        // Still accepted after the subcommand, and the global one still works.
        let c = Cli::try_parse_from(["parity", "--jobs", "3", "seed", "--url", "x"]).unwrap();
        assert_eq!(c.global.jobs, Some(3));
        assert!(
            Cli::try_parse_from(["parity", "seed", "--url", "x", "--config", "p.toml"]).is_ok()
        );
    }

    #[test]
    fn shared_flags_say_which_defaults_apply_where() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut help = |name: &str| {
            let sub = cmd.find_subcommand_mut(name).unwrap();
            // One line: the help wraps at the terminal's width.
            let text = sub.render_long_help().to_string();
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let check = help("check");
        assert!(check.contains("[check] max_differences"), "{check}");
        assert!(check.contains("[check] chunk_rows"), "{check}");
        // backup reads no config's [check].
        let backup = help("backup");
        assert!(backup.contains("[default: 1000]"), "{backup}");
        assert!(backup.contains("[default: 20000]"), "{backup}");
        assert!(!backup.contains("[check]"), "{backup}");
        for name in ["backup", "manifest"] {
            assert!(help(name).contains("Database schemas to read"), "{name}");
        }
        for name in ["timing", "run"] {
            assert!(help(name).contains("[timing] iterations"), "{name}");
        }
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
