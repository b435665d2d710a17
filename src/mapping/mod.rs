//! How one ORM sees the database: the resolved [`Mapping`] of tables, columns,
//! physical types and read modes.
//!
//! Owns: the shared mapping model and the loaders that build it from a
//! `schema.prisma` ([`prisma`]), a drizzle-kit snapshot and/or the exporter's
//! JSON ([`drizzle`]). It does no I/O beyond reading the mapping files; the
//! live catalog's mapping is built by `db` and handed back in this same model.
//! It does not pair mappings (that is `plan`) nor decode values (`canon`).

pub mod drizzle;
pub mod load;
pub mod prisma;

use serde::{Deserialize, Serialize};

/// The SQL dialect a mapping was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }
}

/// Which reader produced a mapping: it decides how values reach TypeScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orm {
    Prisma,
    Drizzle,
    /// The live catalog: exact database values, no ORM in between.
    Catalog,
}

impl Orm {
    pub fn as_str(self) -> &'static str {
        match self {
            Orm::Prisma => "prisma",
            Orm::Drizzle => "drizzle",
            Orm::Catalog => "catalog",
        }
    }
}

/// One ORM's complete view of a database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mapping {
    pub orm: Orm,
    pub dialect: Dialect,
    pub tables: Vec<Table>,
    pub enums: Vec<EnumDef>,
    /// Things the loader assumed and the report should say, e.g. "read modes
    /// assumed from drizzle-kit pull defaults: no exporter JSON given".
    pub notes: Vec<String>,
}

impl Mapping {
    /// Finds a table by physical name, optionally schema-qualified
    /// (`"public.users"` or `"users"`). Unqualified matches the default schema
    /// (`None`, or `"public"` on PostgreSQL).
    pub fn table(&self, name: &str) -> Option<&Table> {
        let (schema, table) = split_qualified(name);
        self.tables
            .iter()
            .find(|t| t.name == table && schema_matches(t.schema.as_deref(), schema))
    }

    pub fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.enums
            .iter()
            .find(|e| e.name == name || e.db_name == name)
    }
}

/// Splits `"schema.table"` into its parts; a bare name has no schema.
pub fn split_qualified(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((s, t)) => (Some(s), t),
        None => (None, name),
    }
}

/// The strings of a JSON array, other elements skipped; empty when `v` is
/// no array.
pub(crate) fn json_strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

/// `schema.name`, or `name` alone without a schema.
pub fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        None | Some("") => name.to_string(),
        Some(s) => format!("{s}.{name}"),
    }
}

/// `None` and `"public"` both mean the connection's default schema.
pub fn schema_matches(have: Option<&str>, want: Option<&str>) -> bool {
    fn norm(s: Option<&str>) -> Option<&str> {
        match s {
            None | Some("") | Some("public") => None,
            other => other,
        }
    }
    norm(have) == norm(want)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    /// Database schema (`@@schema`, pg schema); `None` is the default schema.
    pub schema: Option<String>,
    /// Physical table name.
    pub name: String,
    /// The ORM's own name for it: Prisma model name, Drizzle table variable
    /// or the physical name when the loader has nothing better.
    pub logical: String,
    pub is_view: bool,
    pub columns: Vec<Column>,
    /// Physical column names of the primary key, in key order. Empty when none.
    pub primary_key: Vec<String>,
    /// Physical column names of each unique constraint (single and composite).
    pub uniques: Vec<Vec<String>>,
}

impl Table {
    pub fn qualified_name(&self) -> String {
        qualified(self.schema.as_deref(), &self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    /// Physical column name.
    pub name: String,
    /// The ORM's field name (Prisma field, Drizzle property); physical name
    /// when unknown.
    pub field: String,
    /// Normalised physical type, lowercase, no spaces: `timestamp(3)`,
    /// `timestamptz(6)`, `numeric(65,30)`, `bigint`, `integer`, `text`,
    /// `varchar(191)`, `jsonb`, `uuid`, `date`, `boolean`, `bytea`,
    /// `datetime(3)`, `tinyint(1)`; for an enum, the enum's database name.
    pub db_type: String,
    pub nullable: bool,
    pub is_list: bool,
    /// Set when the column holds an enum: the enum's schema-level name.
    pub enum_name: Option<String>,
    /// How this ORM hands the value to TypeScript.
    pub read: ReadMode,
    /// True when the column has a database default or a client-side one.
    pub has_default: bool,
    /// Prisma `@updatedAt` / Drizzle `$onUpdate`: written by the client.
    pub is_updated_at: bool,
}

/// How an ORM decodes a column into a JavaScript value. This is the single
/// place the per-ORM read rules of `orm-semantics.md` are named; `canon`
/// implements them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadMode {
    /// `number` from an integer column that fits (int2/int4, SQLite integer).
    Int,
    /// `bigint`, exact 64-bit (Prisma BigInt, Drizzle bigint mode 'bigint').
    BigInt,
    /// `number` from a bigint column (Drizzle mode 'number'): f64-rounded.
    BigIntNumber,
    /// `number` from a float column.
    Float,
    /// decimal.js `Decimal` (Prisma): exact decimal.
    Decimal,
    /// exact decimal as a string (Drizzle numeric, default mode).
    DecimalString,
    /// `number` from a decimal (Drizzle mode 'number', Prisma on SQLite): f64.
    DecimalNumber,
    /// `string`.
    Text,
    /// `boolean`.
    Boolean,
    /// JS `Date` from a timestamp: UTC, cut to milliseconds.
    DateTime,
    /// The database's timestamp text (Drizzle mode 'string'): microseconds kept.
    DateTimeString,
    /// JS `Date` at UTC midnight from a `date` column.
    Date,
    /// `"YYYY-MM-DD"` string from a `date` column.
    DateString,
    /// JS `Date` on 1970-01-01 from a `time` column (milliseconds).
    Time,
    /// time of day as a string (microseconds kept).
    TimeString,
    /// Parsed JSON (`JSON.parse`): numbers become f64.
    Json,
    /// `Uint8Array` / `Buffer`.
    Bytes,
    /// Prisma enum: the schema name of the value (after `@map`).
    EnumName,
    /// Drizzle enum: the database label.
    EnumLabel,
    /// SQLite `integer({ mode: 'timestamp' })`: a `Date` from epoch seconds.
    EpochSeconds,
    /// SQLite `integer({ mode: 'timestamp_ms' })`: a `Date` from epoch ms.
    EpochMillis,
    /// SQLite `integer({ mode: 'boolean' })`.
    IntBoolean,
    /// A plain integer (Drizzle `integer()`) compared against a boolean
    /// reading of the same column: 0 and 1 stand for false and true, any
    /// other number stays that number. Only set by `plan::reconcile`.
    IntOrBoolean,
    /// The exact database value (catalog comparisons, backups).
    Raw,
}

impl ReadMode {
    /// The JavaScript shape the application receives, for shape reports.
    pub fn js_shape(self) -> &'static str {
        use ReadMode::*;
        match self {
            Int | BigIntNumber | Float | DecimalNumber | IntOrBoolean => "number",
            BigInt => "bigint",
            Decimal => "Decimal",
            DecimalString | Text | DateTimeString | DateString | TimeString | EnumLabel => "string",
            EnumName => "string (enum name)",
            Boolean | IntBoolean => "boolean",
            DateTime | Date | Time | EpochSeconds | EpochMillis => "Date",
            Json => "JSON value",
            Bytes => "bytes",
            Raw => "database value",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnumDef {
    /// Schema-level name (Prisma enum name / Drizzle pgEnum name).
    pub name: String,
    /// Database type name (`@@map` on the enum), same as `name` when unmapped.
    pub db_name: String,
    pub schema: Option<String>,
    pub values: Vec<EnumValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnumValue {
    /// The name the ORM hands to TypeScript (Prisma), e.g. `WAITING_FOR_PARTS`.
    pub name: String,
    /// The label stored in the database, e.g. `waiting_parts`.
    pub db_name: String,
}

/// Normalises a type string as drizzle-kit, Prisma and catalogs print it:
/// lowercase, inner spaces dropped (`"timestamp (3)"` → `"timestamp(3)"`),
/// with common aliases folded (`int4` → `integer`, `timestamp without time
/// zone` → `timestamp`).
pub fn normalize_type(raw: &str) -> String {
    let mut lower = raw.trim().to_ascii_lowercase();
    // `timestamp(6) with time zone` carries its precision before the suffix.
    let mut tz = false;
    for suffix in [" with time zone", " without time zone"] {
        if let Some(i) = lower.find(suffix) {
            tz = suffix == " with time zone";
            lower.replace_range(i..i + suffix.len(), "");
        }
    }
    let mut s = lower
        .replace("character varying", "varchar")
        .replace("double precision", "float8");
    s.retain(|c| !c.is_whitespace());
    if tz {
        if let Some(rest) = s.strip_prefix("timestamp") {
            s = format!("timestamptz{rest}");
        } else if let Some(rest) = s.strip_prefix("time") {
            s = format!("timetz{rest}");
        }
    }
    // Array suffix is kept; aliases fold on the base name.
    let (base, rest) = match s.find(['(', '[']) {
        Some(i) => (s[..i].to_string(), s[i..].to_string()),
        None => (s.clone(), String::new()),
    };
    let base = match base.as_str() {
        "int4" | "int" | "serial" | "serial4" => "integer",
        "int8" | "bigserial" | "serial8" => "bigint",
        "int2" | "smallserial" | "serial2" => "smallint",
        "float4" => "real",
        "float8" => "float8",
        "bool" => "boolean",
        "decimal" => "numeric",
        "character" | "bpchar" => "char",
        other => other,
    }
    .to_string();
    format!("{base}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_type_spellings() {
        assert_eq!(normalize_type("timestamp (3)"), "timestamp(3)");
        assert_eq!(normalize_type("timestamp(3)"), "timestamp(3)");
        assert_eq!(
            normalize_type("timestamp(6) with time zone"),
            "timestamptz(6)"
        );
        assert_eq!(normalize_type("character varying(191)"), "varchar(191)");
        assert_eq!(normalize_type("int4"), "integer");
        assert_eq!(normalize_type("bigserial"), "bigint");
        assert_eq!(normalize_type("DECIMAL(65, 30)"), "numeric(65,30)");
        assert_eq!(normalize_type("text[]"), "text[]");
    }

    #[test]
    fn qualified_lookup_treats_public_as_default() {
        assert!(schema_matches(None, Some("public")));
        assert!(schema_matches(Some("public"), None));
        assert!(!schema_matches(Some("auth"), None));
        assert_eq!(split_qualified("auth.users"), (Some("auth"), "users"));
    }
}
