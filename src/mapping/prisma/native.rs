//! Prisma's scalar types, `@db.*` native types and providers: which native
//! types exist per provider, the physical type each field ends up with, and
//! how Prisma 7 hands the value to TypeScript.
//!
//! Owns: the provider table, the native-type catalogue (for validation), the
//! normalised `db_type` spelling and the [`ReadMode`] of a scalar field. It
//! does not look at the schema text.

use crate::mapping::{Dialect, ReadMode};

/// A datasource provider parity can read. CockroachDB speaks the PostgreSQL
/// dialect but has its own native types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Postgres,
    Cockroach,
    Mysql,
    Sqlite,
}

impl Provider {
    /// Parses a `provider = "…"` value. `Err` carries the reason for the user.
    pub fn parse(name: &str) -> Result<Provider, String> {
        match name {
            "postgresql" | "postgres" => Ok(Provider::Postgres),
            "cockroachdb" => Ok(Provider::Cockroach),
            "mysql" => Ok(Provider::Mysql),
            "sqlite" => Ok(Provider::Sqlite),
            "sqlserver" | "mongodb" => Err(format!(
                "provider \"{name}\" is not supported: parity reads PostgreSQL, CockroachDB, MySQL and SQLite schemas"
            )),
            other => Err(format!(
                "unknown provider \"{other}\": use \"postgresql\", \"cockroachdb\", \"mysql\" or \"sqlite\""
            )),
        }
    }

    pub fn dialect(self) -> Dialect {
        match self {
            Provider::Postgres | Provider::Cockroach => Dialect::Postgres,
            Provider::Mysql => Dialect::Mysql,
            Provider::Sqlite => Dialect::Sqlite,
        }
    }

    /// Scalar lists (`String[]`) exist only on the PostgreSQL family.
    pub fn supports_lists(self) -> bool {
        matches!(self, Provider::Postgres | Provider::Cockroach)
    }
}

pub const SCALARS: [&str; 9] = [
    "String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes",
];

/// One `@db.*` type: its name, the scalar types it may annotate and how many
/// arguments it takes.
struct NativeSpec {
    name: &'static str,
    scalars: &'static [&'static str],
    min_args: usize,
    max_args: usize,
}

const fn spec(
    name: &'static str,
    scalars: &'static [&'static str],
    min_args: usize,
    max_args: usize,
) -> NativeSpec {
    NativeSpec {
        name,
        scalars,
        min_args,
        max_args,
    }
}

const S: &[&str] = &["String"];
const I: &[&str] = &["Int"];
const BI: &[&str] = &["BigInt"];
const D: &[&str] = &["Decimal"];
const F: &[&str] = &["Float"];
const DT: &[&str] = &["DateTime"];
const J: &[&str] = &["Json"];
const B: &[&str] = &["Bytes"];
const BOOL: &[&str] = &["Boolean"];

const POSTGRES: &[NativeSpec] = &[
    spec("Text", S, 0, 0),
    spec("Char", S, 0, 1),
    spec("VarChar", S, 0, 1),
    spec("Bit", S, 0, 1),
    spec("VarBit", S, 0, 1),
    spec("Uuid", S, 0, 0),
    spec("Xml", S, 0, 0),
    spec("Inet", S, 0, 0),
    spec("Citext", S, 0, 0),
    spec("Boolean", BOOL, 0, 0),
    spec("Integer", I, 0, 0),
    spec("SmallInt", I, 0, 0),
    spec("Oid", I, 0, 0),
    spec("BigInt", BI, 0, 0),
    spec("Money", D, 0, 0),
    spec("Decimal", D, 0, 2),
    spec("Real", F, 0, 0),
    spec("DoublePrecision", F, 0, 0),
    spec("Timestamp", DT, 0, 1),
    spec("Timestamptz", DT, 0, 1),
    spec("Date", DT, 0, 0),
    spec("Time", DT, 0, 1),
    spec("Timetz", DT, 0, 1),
    spec("Json", J, 0, 0),
    spec("JsonB", J, 0, 0),
    spec("ByteA", B, 0, 0),
];

const COCKROACH: &[NativeSpec] = &[
    spec("Bit", S, 0, 1),
    spec("Bool", BOOL, 0, 0),
    spec("Bytes", B, 0, 0),
    spec("Char", S, 0, 1),
    spec("CatalogSingleChar", S, 0, 0),
    spec("Date", DT, 0, 0),
    spec("Decimal", D, 0, 2),
    spec("Float4", F, 0, 0),
    spec("Float8", F, 0, 0),
    spec("Inet", S, 0, 0),
    spec("Int2", I, 0, 0),
    spec("Int4", I, 0, 0),
    spec("Int8", BI, 0, 0),
    spec("JsonB", J, 0, 0),
    spec("Oid", I, 0, 0),
    spec("String", S, 0, 1),
    spec("Time", DT, 0, 1),
    spec("Timestamp", DT, 0, 1),
    spec("Timestamptz", DT, 0, 1),
    spec("Timetz", DT, 0, 1),
    spec("Uuid", S, 0, 0),
    spec("VarBit", S, 0, 1),
];

const INT_OR_BOOL: &[&str] = &["Int", "Boolean"];
const BOOL_OR_BYTES: &[&str] = &["Boolean", "Bytes"];

const MYSQL: &[NativeSpec] = &[
    spec("Int", I, 0, 0),
    spec("UnsignedInt", I, 0, 0),
    spec("SmallInt", I, 0, 0),
    spec("UnsignedSmallInt", I, 0, 0),
    spec("TinyInt", INT_OR_BOOL, 0, 0),
    spec("UnsignedTinyInt", INT_OR_BOOL, 0, 0),
    spec("MediumInt", I, 0, 0),
    spec("UnsignedMediumInt", I, 0, 0),
    spec("BigInt", BI, 0, 0),
    spec("UnsignedBigInt", BI, 0, 0),
    spec("Decimal", D, 0, 2),
    spec("Float", F, 0, 0),
    spec("Double", F, 0, 0),
    spec("Bit", BOOL_OR_BYTES, 1, 1),
    spec("Char", S, 1, 1),
    spec("VarChar", S, 1, 1),
    spec("TinyText", S, 0, 0),
    spec("Text", S, 0, 0),
    spec("MediumText", S, 0, 0),
    spec("LongText", S, 0, 0),
    spec("Binary", B, 1, 1),
    spec("VarBinary", B, 1, 1),
    spec("TinyBlob", B, 0, 0),
    spec("Blob", B, 0, 0),
    spec("MediumBlob", B, 0, 0),
    spec("LongBlob", B, 0, 0),
    spec("Date", DT, 0, 0),
    spec("Time", DT, 0, 1),
    spec("DateTime", DT, 0, 1),
    spec("Timestamp", DT, 0, 1),
    spec("Year", I, 0, 0),
    spec("Json", J, 0, 0),
];

fn catalogue(p: Provider) -> &'static [NativeSpec] {
    match p {
        Provider::Postgres => POSTGRES,
        Provider::Cockroach => COCKROACH,
        Provider::Mysql => MYSQL,
        Provider::Sqlite => &[],
    }
}

/// Checks `@db.<name>(args)` on a field of scalar type `scalar`. `Err` is the
/// message for the user.
pub fn check_native(p: Provider, name: &str, args: usize, scalar: &str) -> Result<(), String> {
    if p == Provider::Sqlite {
        return Err(format!(
            "native type @db.{name} is not supported on sqlite: SQLite has no @db.* types"
        ));
    }
    let Some(spec) = catalogue(p).iter().find(|s| s.name == name) else {
        return Err(format!(
            "native type @db.{name} is not a {} type",
            provider_label(p)
        ));
    };
    if !spec.scalars.contains(&scalar) {
        return Err(format!(
            "native type @db.{name} cannot annotate a {scalar} field: it is for {}",
            spec.scalars.join(" or ")
        ));
    }
    if args < spec.min_args || args > spec.max_args {
        let want = match (spec.min_args, spec.max_args) {
            (0, 0) => "no arguments".to_string(),
            (a, b) if a == b => format!("{a} argument(s)"),
            (a, b) => format!("{a} to {b} arguments"),
        };
        return Err(format!("native type @db.{name} takes {want}, got {args}"));
    }
    Ok(())
}

fn provider_label(p: Provider) -> &'static str {
    match p {
        Provider::Postgres => "PostgreSQL",
        Provider::Cockroach => "CockroachDB",
        Provider::Mysql => "MySQL",
        Provider::Sqlite => "SQLite",
    }
}

/// The normalised physical type of a scalar field: the native type when one
/// is given, the provider's default otherwise (lowercase, no spaces inside
/// the parentheses).
pub fn db_type(p: Provider, scalar: &str, native: Option<(&str, &[String])>) -> String {
    let Some((name, args)) = native else {
        return default_type(p, scalar).to_string();
    };
    let args_s = if args.is_empty() {
        String::new()
    } else {
        format!(
            "({})",
            args.iter().map(|a| a.trim()).collect::<Vec<_>>().join(",")
        )
    };
    let base: String = match p {
        Provider::Postgres => match name {
            "DoublePrecision" => "float8".into(),
            "Decimal" => "numeric".into(),
            other => other.to_ascii_lowercase(),
        },
        Provider::Cockroach => match name {
            "Bool" => "boolean".into(),
            "Bytes" => "bytea".into(),
            "Float4" => "real".into(),
            "Int2" => "smallint".into(),
            "Int4" => "integer".into(),
            "Int8" => "bigint".into(),
            "Decimal" => "numeric".into(),
            "CatalogSingleChar" => "char".into(),
            "String" if args.is_empty() => "text".into(),
            "String" => "varchar".into(),
            other => other.to_ascii_lowercase(),
        },
        Provider::Mysql => match name.strip_prefix("Unsigned") {
            Some(rest) => return format!("{} unsigned", rest.to_ascii_lowercase()),
            None => name.to_ascii_lowercase(),
        },
        Provider::Sqlite => name.to_ascii_lowercase(),
    };
    format!("{base}{args_s}")
}

fn default_type(p: Provider, scalar: &str) -> &'static str {
    match p {
        Provider::Postgres | Provider::Cockroach => match scalar {
            "String" => "text",
            "Int" => "integer",
            "BigInt" => "bigint",
            "Float" => "float8",
            "Decimal" => "numeric(65,30)",
            "DateTime" => "timestamp(3)",
            "Boolean" => "boolean",
            "Json" => "jsonb",
            "Bytes" => "bytea",
            _ => "text",
        },
        Provider::Mysql => match scalar {
            "String" => "varchar(191)",
            "Int" => "int",
            "BigInt" => "bigint",
            "Float" => "double",
            "Decimal" => "decimal(65,30)",
            "DateTime" => "datetime(3)",
            "Boolean" => "tinyint(1)",
            "Json" => "json",
            "Bytes" => "longblob",
            _ => "varchar(191)",
        },
        Provider::Sqlite => match scalar {
            "String" => "text",
            "Int" => "integer",
            "BigInt" => "bigint",
            "Float" => "real",
            "Decimal" => "decimal",
            "DateTime" => "datetime",
            "Boolean" => "boolean",
            "Json" => "jsonb",
            "Bytes" => "blob",
            _ => "text",
        },
    }
}

/// How Prisma 7 hands a scalar field's value to TypeScript.
pub fn read_mode(_provider: Provider, scalar: &str, native: Option<&str>) -> ReadMode {
    match scalar {
        "Int" => ReadMode::Int,
        "BigInt" => ReadMode::BigInt,
        "Float" => ReadMode::Float,
        // Every provider hands a decimal.js Decimal; on SQLite (issue 17) the
        // better-sqlite3 adapter reads integers as safe integers, so an
        // INTEGER reads as the exact Decimal, a REAL as the JS number's Decimal.
        "Decimal" => ReadMode::Decimal,
        "Boolean" => ReadMode::Boolean,
        "Json" => ReadMode::Json,
        "Bytes" => ReadMode::Bytes,
        "DateTime" => match native {
            Some("Date") => ReadMode::Date,
            Some("Time" | "Timetz") => ReadMode::Time,
            _ => ReadMode::DateTime,
        },
        _ => ReadMode::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: Provider, scalar: &str, name: &str, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        db_type(p, scalar, Some((name, &args)))
    }

    #[test]
    fn native_types_normalise() {
        use Provider::*;
        assert_eq!(
            t(Postgres, "Decimal", "Decimal", &["10", " 2"]),
            "numeric(10,2)"
        );
        assert_eq!(
            t(Postgres, "DateTime", "Timestamptz", &["6"]),
            "timestamptz(6)"
        );
        assert_eq!(t(Postgres, "DateTime", "Timestamp", &["6"]), "timestamp(6)");
        assert_eq!(t(Postgres, "DateTime", "Date", &[]), "date");
        assert_eq!(t(Postgres, "String", "Uuid", &[]), "uuid");
        assert_eq!(t(Postgres, "String", "VarChar", &["191"]), "varchar(191)");
        assert_eq!(t(Postgres, "String", "Char", &["3"]), "char(3)");
        assert_eq!(t(Postgres, "Float", "DoublePrecision", &[]), "float8");
        assert_eq!(t(Postgres, "Json", "JsonB", &[]), "jsonb");
        assert_eq!(t(Postgres, "Bytes", "ByteA", &[]), "bytea");
        assert_eq!(t(Postgres, "Int", "Integer", &[]), "integer");
        assert_eq!(t(Mysql, "DateTime", "DateTime", &["3"]), "datetime(3)");
        assert_eq!(t(Mysql, "Int", "TinyInt", &[]), "tinyint");
        assert_eq!(t(Mysql, "String", "LongText", &[]), "longtext");
        assert_eq!(t(Mysql, "Int", "UnsignedInt", &[]), "int unsigned");
        assert_eq!(t(Cockroach, "Int", "Int4", &[]), "integer");
    }

    #[test]
    fn provider_defaults() {
        assert_eq!(
            db_type(Provider::Postgres, "Decimal", None),
            "numeric(65,30)"
        );
        assert_eq!(
            db_type(Provider::Postgres, "DateTime", None),
            "timestamp(3)"
        );
        assert_eq!(db_type(Provider::Mysql, "String", None), "varchar(191)");
        assert_eq!(db_type(Provider::Mysql, "Boolean", None), "tinyint(1)");
        assert_eq!(db_type(Provider::Sqlite, "Bytes", None), "blob");
    }

    #[test]
    fn read_modes() {
        use Provider::*;
        assert_eq!(
            read_mode(Postgres, "DateTime", Some("Date")),
            ReadMode::Date
        );
        assert_eq!(
            read_mode(Postgres, "DateTime", Some("Timetz")),
            ReadMode::Time
        );
        assert_eq!(
            read_mode(Postgres, "DateTime", Some("Timestamptz")),
            ReadMode::DateTime
        );
        assert_eq!(read_mode(Sqlite, "Decimal", None), ReadMode::Decimal);
        assert_eq!(read_mode(Mysql, "Decimal", None), ReadMode::Decimal);
    }

    #[test]
    fn checks_native_types() {
        assert!(check_native(Provider::Postgres, "VarChar", 1, "String").is_ok());
        assert!(check_native(Provider::Postgres, "VarChar", 1, "Int").is_err());
        assert!(check_native(Provider::Postgres, "Foo", 0, "String").is_err());
        assert!(check_native(Provider::Mysql, "VarChar", 0, "String").is_err());
        assert!(check_native(Provider::Sqlite, "Text", 0, "String").is_err());
    }
}
