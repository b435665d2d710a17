//! Drizzle column classes → [`ReadMode`]. The `columnType` names are
//! drizzle-orm's own (checked against drizzle-orm 0.45: `super(name,
//! dataType, columnType)` in `pg-core/columns/*`, `mysql-core/columns/*`,
//! `sqlite-core/columns/*`).

use crate::mapping::{Dialect, ReadMode};

/// The read mode of a column from its drizzle-orm class, `mode` and
/// `dataType`. `None` when the class is unknown and `dataType` says nothing
/// useful (the caller falls back to the SQL type).
pub fn read_mode_for_column_type(
    column_type: &str,
    mode: Option<&str>,
    data_type: Option<&str>,
) -> Option<ReadMode> {
    use ReadMode::*;
    // One class reads two ways, by its `mode` option.
    let when = |m: &str, yes: ReadMode, no: ReadMode| if mode == Some(m) { yes } else { no };
    let by_class = match column_type {
        // ---- PostgreSQL
        "PgTimestamp" => Some(DateTime),
        "PgTimestampString" => Some(DateTimeString),
        "PgDate" => Some(Date),
        "PgDateString" => Some(DateString),
        "PgTime" => Some(TimeString),
        "PgInterval" => Some(Text),
        "PgBigInt53" | "PgBigSerial53" => Some(BigIntNumber),
        "PgBigInt64" | "PgBigSerial64" | "PgNumericBigInt" => Some(BigInt),
        "PgNumeric" => Some(when("number", DecimalNumber, DecimalString)),
        "PgNumericNumber" => Some(DecimalNumber),
        "PgEnumColumn" | "PgEnumObjectColumn" => Some(EnumLabel),
        "PgJson" | "PgJsonb" => Some(Json),
        "PgInteger" | "PgSmallInt" | "PgSerial" | "PgSmallSerial" => Some(Int),
        "PgReal" | "PgDoublePrecision" => Some(Float),
        "PgBoolean" => Some(Boolean),
        "PgText" | "PgVarchar" | "PgChar" | "PgUUID" | "PgInet" | "PgCidr" | "PgMacaddr"
        | "PgMacaddr8" => Some(Text),
        // ---- MySQL
        "MySqlDateTime" | "MySqlTimestamp" => Some(when("string", DateTimeString, DateTime)),
        "MySqlDateTimeString" | "MySqlTimestampString" => Some(DateTimeString),
        "MySqlDate" => Some(when("string", DateString, Date)),
        "MySqlDateString" => Some(DateString),
        "MySqlTime" => Some(TimeString),
        // MySQL `serial` is BIGINT UNSIGNED read as a number.
        "MySqlBigInt53" | "MySqlSerial" => Some(BigIntNumber),
        "MySqlBigInt64" | "MySqlDecimalBigInt" => Some(BigInt),
        "MySqlDecimal" => Some(when("number", DecimalNumber, DecimalString)),
        "MySqlDecimalNumber" => Some(DecimalNumber),
        "MySqlBoolean" => Some(Boolean),
        "MySqlEnumColumn" | "MySqlEnumObjectColumn" => Some(EnumLabel),
        "MySqlJson" => Some(Json),
        "MySqlInt" | "MySqlSmallInt" | "MySqlTinyInt" | "MySqlMediumInt" | "MySqlYear" => Some(Int),
        "MySqlFloat" | "MySqlDouble" | "MySqlReal" => Some(Float),
        "MySqlText" | "MySqlVarChar" | "MySqlChar" | "MySqlBinary" | "MySqlVarBinary" => Some(Text),
        // ---- SQLite
        "SQLiteTimestamp" => Some(when("timestamp_ms", EpochMillis, EpochSeconds)),
        "SQLiteBoolean" => Some(IntBoolean),
        "SQLiteInteger" => Some(Int),
        "SQLiteText" => Some(when("json", Json, Text)),
        "SQLiteTextJson" | "SQLiteBlobJson" => Some(Json),
        "SQLiteReal" => Some(Float),
        "SQLiteNumeric" => Some(DecimalString),
        "SQLiteNumericNumber" => Some(DecimalNumber),
        "SQLiteNumericBigInt" | "SQLiteBigInt" => Some(BigInt),
        "SQLiteBlobBuffer" => Some(Bytes),
        _ => None,
    };
    by_class.or_else(|| by_data_type(data_type?))
}

/// drizzle-orm's coarse `dataType`, for classes the table above lacks.
fn by_data_type(data_type: &str) -> Option<ReadMode> {
    use ReadMode::*;
    match data_type {
        "string" => Some(Text),
        "number" => Some(Float),
        "bigint" => Some(BigInt),
        "boolean" => Some(Boolean),
        "date" => Some(DateTime),
        "json" | "array" => Some(Json),
        "buffer" => Some(Bytes),
        _ => None,
    }
}

/// The read mode `drizzle-kit pull` writes for a SQL type, used when only a
/// snapshot is given: timestamps and dates as strings, bigint as number
/// (bigserial as bigint), numeric as string. `sql_type` has no `[]`.
pub fn default_read_mode(dialect: Dialect, sql_type: &str) -> ReadMode {
    use ReadMode::*;
    let l = sql_type.trim().to_ascii_lowercase();
    let base: &str = l.split(['(', ' ']).next().unwrap_or("");
    match dialect {
        Dialect::Postgres => match base {
            "bigserial" | "serial8" => BigInt,
            "bigint" | "int8" => BigIntNumber,
            "integer" | "int" | "int4" | "smallint" | "int2" | "serial" | "serial4"
            | "smallserial" | "serial2" => Int,
            "numeric" | "decimal" => DecimalString,
            "real" | "float4" | "double" | "float8" => Float,
            "boolean" | "bool" => Boolean,
            "timestamp" | "timestamptz" => DateTimeString,
            "date" => DateString,
            "time" | "timetz" => TimeString,
            "json" | "jsonb" => Json,
            "bytea" => Bytes,
            _ => Text,
        },
        Dialect::Mysql => match base {
            "bigint" | "serial" => BigIntNumber,
            "int" | "integer" | "smallint" | "tinyint" | "mediumint" | "year" => Int,
            "decimal" | "numeric" => DecimalString,
            "float" | "double" | "real" => Float,
            "boolean" | "bool" => Boolean,
            "datetime" | "timestamp" => DateTimeString,
            "date" => DateString,
            "time" => TimeString,
            "json" => Json,
            "enum" => EnumLabel,
            "blob" | "tinyblob" | "mediumblob" | "longblob" => Bytes,
            _ => Text,
        },
        Dialect::Sqlite => match base {
            "integer" | "int" => Int,
            "real" => Float,
            "numeric" => DecimalString,
            "blob" => Bytes,
            _ => Text,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReadMode::*;

    #[test]
    fn classes_and_modes() {
        for (class, mode, read) in [
            ("PgTimestamp", Some("date"), DateTime),
            ("PgTimestampString", Some("string"), DateTimeString),
            ("PgBigInt53", Some("number"), BigIntNumber),
            ("PgBigInt64", Some("bigint"), BigInt),
            ("PgBigSerial53", None, BigIntNumber),
            ("PgNumeric", None, DecimalString),
            ("PgNumeric", Some("number"), DecimalNumber),
            ("PgDateString", None, DateString),
            ("PgTime", None, TimeString),
            ("PgInterval", None, Text),
            ("PgEnumColumn", None, EnumLabel),
            ("PgUUID", None, Text),
            ("SQLiteTimestamp", Some("timestamp"), EpochSeconds),
            ("SQLiteTimestamp", Some("timestamp_ms"), EpochMillis),
            ("SQLiteBoolean", Some("boolean"), IntBoolean),
            ("MySqlDateTime", Some("string"), DateTimeString),
            ("MySqlDateTime", Some("date"), DateTime),
            ("MySqlBigInt53", None, BigIntNumber),
        ] {
            let got = read_mode_for_column_type(class, mode, None);
            assert_eq!(got, Some(read), "{class} {mode:?}");
        }
        assert_eq!(
            read_mode_for_column_type("PgCustomColumn", None, None),
            None
        );
        assert_eq!(
            read_mode_for_column_type("PgVector", None, Some("array")),
            Some(Json)
        );
    }

    #[test]
    fn pull_defaults() {
        for (dialect, sql_type, read) in [
            (Dialect::Postgres, "timestamp(3)", DateTimeString),
            (
                Dialect::Postgres,
                "timestamp with time zone",
                DateTimeString,
            ),
            (Dialect::Postgres, "bigint", BigIntNumber),
            (Dialect::Postgres, "bigserial", BigInt),
            (Dialect::Postgres, "numeric(10, 2)", DecimalString),
            (Dialect::Postgres, "double precision", Float),
            (Dialect::Mysql, "datetime(3)", DateTimeString),
            (Dialect::Mysql, "enum('a')", EnumLabel),
            (Dialect::Sqlite, "integer", Int),
        ] {
            assert_eq!(default_read_mode(dialect, sql_type), read, "{sql_type}");
        }
    }
}
