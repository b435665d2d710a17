//! MySQL/MariaDB timing sessions: captured statements run as server-side
//! prepared statements (the binary protocol, as `@prisma/adapter-mariadb`'s
//! `execute` sends them; mysql2's `query` interpolates on the client, which
//! parity does not imitate), and result fields decoded from the binary row
//! format into [`Val`]s without a date library, so zero dates survive as text.

use anyhow::Result;
use sqlx::mysql::{MySql, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::{Row, TypeInfo, ValueRef};

use super::exec::{StmtResult, named_columns};
use super::value::Val;

pub async fn exec(
    conn: &mut PoolConnection<MySql>,
    sql: &str,
    params: &[Val],
) -> Result<StmtResult> {
    let mut q = sqlx::query::<MySql>(sql);
    for v in params {
        q = match v {
            Val::Null => q.bind(None::<i64>),
            Val::Bool(b) => q.bind(*b),
            Val::Int(i) => q.bind(*i),
            Val::Float(f) => q.bind(*f),
            Val::Bytes(b) => q.bind(b.clone()),
            // Temporal values as MySQL literals: '2024-03-05 10:11:12.345678'.
            other => q.bind(mysql_text(other)),
        };
    }
    let rows = q.fetch_all(&mut **conn).await?;
    let columns = named_columns(&rows);
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(
            (0..columns.len())
                .map(|i| decode(row, i))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    Ok(StmtResult { columns, rows: out })
}

/// A value as MySQL reads it from a string parameter.
fn mysql_text(v: &Val) -> String {
    let t = v.to_text().unwrap_or_default();
    match v {
        // `2024-03-05 10:11:12.345678+00` → without the zone suffix.
        Val::Timestamp(_) | Val::TimestampTz(_) => t.trim_end_matches("+00").to_string(),
        _ => t,
    }
}

fn decode(row: &MySqlRow, i: usize) -> Result<Val> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Val::Null);
    }
    let ty = raw.type_info().name().to_ascii_uppercase();
    let bytes: &[u8] = row.try_get_unchecked::<&[u8], _>(i).unwrap_or_default();
    let unsigned = ty.contains("UNSIGNED");
    let int = |n: usize| -> Option<i128> {
        let b = bytes.get(..n)?;
        let mut buf = [0u8; 16];
        buf[..n].copy_from_slice(b);
        let u = u128::from_le_bytes(buf);
        Some(if unsigned || n == 16 {
            u as i128
        } else {
            let shift = 128 - 8 * n as u32;
            ((u << shift) as i128) >> shift
        })
    };
    let text = || String::from_utf8_lossy(bytes).into_owned();
    let as_int = |v: Option<i128>| match v.and_then(|v| i64::try_from(v).ok()) {
        Some(v) => Val::Int(v),
        None => Val::Numeric(v.map(|v| v.to_string()).unwrap_or_default()),
    };
    let base = ty.split(' ').next().unwrap_or("");
    Ok(match base {
        "BOOLEAN" | "TINYINT" => as_int(int(1)),
        "SMALLINT" | "YEAR" => as_int(int(2)),
        "MEDIUMINT" | "INT" | "INTEGER" => as_int(int(4)),
        "BIGINT" => as_int(int(8)),
        "FLOAT" => Val::Float(
            bytes
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(f32::from_le_bytes)
                .unwrap_or(0.0) as f64,
        ),
        "DOUBLE" | "REAL" => Val::Float(
            bytes
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(f64::from_le_bytes)
                .unwrap_or(0.0),
        ),
        "DECIMAL" | "NUMERIC" | "NEWDECIMAL" => Val::Numeric(text()),
        "DATETIME" => datetime(bytes).map_or_else(|| Val::Text(zero_text(bytes)), Val::Timestamp),
        "TIMESTAMP" => {
            datetime(bytes).map_or_else(|| Val::Text(zero_text(bytes)), Val::TimestampTz)
        }
        "DATE" => datetime(bytes)
            .map(|us| Val::Date(us.div_euclid(86_400_000_000) as i32))
            .unwrap_or_else(|| Val::Text(zero_text(bytes))),
        "TIME" => time(bytes).map_or_else(|| Val::Text("(out-of-day TIME)".into()), Val::Time),
        "JSON" => Val::Json(text()),
        "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BIT" => {
            Val::Bytes(bytes.to_vec())
        }
        _ => Val::Text(text()),
    })
}

fn zero_text(b: &[u8]) -> String {
    if b.first().copied().unwrap_or(0) == 0 {
        "0000-00-00 00:00:00".into()
    } else {
        format!("(invalid date {})", hex::encode(b))
    }
}

/// Binary-protocol DATE/DATETIME/TIMESTAMP: length byte, year u16, month,
/// day, [hour, minute, second, [µs u32]] → µs since epoch (wall clock as
/// UTC); None for zero and partial-zero dates.
pub fn datetime(b: &[u8]) -> Option<i64> {
    let len = *b.first()? as usize;
    let p = b.get(1..1 + len)?;
    if len < 4 {
        return None;
    }
    let year = u16::from_le_bytes([p[0], p[1]]) as i32;
    let date = chrono::NaiveDate::from_ymd_opt(year, p[2] as u32, p[3] as u32)?;
    let (h, m, s) = if len >= 7 {
        (p[4] as i64, p[5] as i64, p[6] as i64)
    } else {
        (0, 0, 0)
    };
    let us = if len >= 11 {
        u32::from_le_bytes([p[7], p[8], p[9], p[10]]) as i64
    } else {
        0
    };
    let days = (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days();
    Some(days * 86_400_000_000 + ((h * 60 + m) * 60 + s) * 1_000_000 + us)
}

/// Binary-protocol TIME: length, negative flag, days u32, hour, minute,
/// second, [µs u32] → µs since midnight; None outside one day.
pub fn time(b: &[u8]) -> Option<i64> {
    let len = *b.first()? as usize;
    if len == 0 {
        return Some(0);
    }
    let p = b.get(1..1 + len)?;
    if len < 8 || p[0] != 0 || u32::from_le_bytes([p[1], p[2], p[3], p[4]]) != 0 {
        return None;
    }
    let us = if len >= 12 {
        u32::from_le_bytes([p[8], p[9], p[10], p[11]]) as i64
    } else {
        0
    };
    Some(((p[5] as i64 * 60 + p[6] as i64) * 60 + p[7] as i64) * 1_000_000 + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_binary_temporal_fields() {
        // 1970-01-02 00:00:01.000002
        let b = [11u8, 0xB2, 0x07, 1, 2, 0, 0, 1, 2, 0, 0, 0];
        assert_eq!(datetime(&b), Some(86_401_000_002));
        assert_eq!(datetime(&[0]), None);
        assert_eq!(datetime(&[4, 0xE8, 0x07, 2, 0]), None, "2024-02-00");
        assert_eq!(time(&[8, 0, 0, 0, 0, 0, 1, 0, 0]), Some(3_600_000_000));
        assert_eq!(time(&[8, 1, 0, 0, 0, 0, 1, 0, 0]), None, "negative");
    }
}
