//! Shapes: how the JavaScript values two ORMs hand out for one column
//! differ ([`classify`]), and how a side read as plain text or number is
//! compared when the other side says what the column holds ([`reconcile`]).
//! Pure: from the two mappings' columns alone.

use serde::Serialize;

use crate::mapping::{Column, Dialect, Mapping, Orm, ReadMode};

/// A difference in the JavaScript form the two ORMs give for a column.
#[derive(Debug, Clone, Serialize)]
pub struct Shape {
    /// Stable code, e.g. `SHAPE_DATE_VS_STRING`, `SHAPE_BIGINT_NUMBER`.
    pub code: String,
    /// `shape` (same information, different form) or `value` (the read can
    /// lose information for some rows, e.g. bigint mode 'number').
    pub risk: ShapeRisk,
    /// One human line, e.g. "Prisma gives Date, Drizzle gives string (mode 'string')".
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeRisk {
    Shape,
    Value,
    /// A risk note, not a shape difference: both ORMs hand the same JS
    /// type, but the column can hold values one reading keeps and the other
    /// cuts (e.g. precision); the rows where that happens are value cells.
    Note,
}

/// Reads a plain string or number side the way its value is meant, when the
/// other side tells what the column holds: a SQLite DATETIME that one ORM
/// reads as a `Date` and the other hands out as the stored text compares as
/// a timestamp string (the same instant is no value difference: the shape
/// difference is already reported); an integer 0/1 that the other side
/// reads as a boolean compares as a boolean. Applied after [`classify`], so
/// the declared shapes are still reported.
pub fn reconcile(a: &mut Column, b: &mut Column) {
    use ReadMode::*;
    fn as_string_of(temporal: ReadMode) -> Option<ReadMode> {
        match temporal {
            DateTime | EpochSeconds | EpochMillis => Some(DateTimeString),
            Date => Some(DateString),
            Time => Some(TimeString),
            _ => None,
        }
    }
    let fix = |x: ReadMode, y: ReadMode| -> ReadMode {
        if matches!(x, Text | DecimalString)
            && let Some(r) = as_string_of(y)
        {
            return r;
        }
        if x == Int && y == IntBoolean {
            return IntBoolean;
        }
        if x == Int && y == Boolean {
            // Issue 17: Prisma's Boolean is `=== 1`, a plain `integer()`
            // hands the number: 2 is Prisma's false against Drizzle's 2.
            return IntOrBoolean;
        }
        x
    };
    let (ra, rb) = (a.read, b.read);
    a.read = fix(ra, rb);
    b.read = fix(rb, ra);
}

pub fn orm_label(orm: Orm) -> &'static str {
    match orm {
        Orm::Prisma => "Prisma",
        Orm::Drizzle => "Drizzle",
        Orm::Catalog => "the database",
    }
}

/// How a read mode is described in shape messages.
fn describe(read: ReadMode) -> &'static str {
    use ReadMode::*;
    match read {
        Int => "number",
        BigInt => "bigint",
        BigIntNumber => "number (bigint mode 'number')",
        Float => "number",
        Decimal => "Decimal (decimal.js)",
        DecimalString => "string (exact decimal)",
        DecimalNumber => "number (decimal mode 'number')",
        Text => "string",
        Boolean => "boolean",
        DateTime => "Date",
        DateTimeString => "string (mode 'string')",
        Date => "Date (UTC midnight)",
        DateString => "string \"YYYY-MM-DD\" (mode 'string')",
        Time => "Date on 1970-01-01",
        TimeString => "string",
        Json => "parsed JSON",
        Bytes => "bytes",
        EnumName => "the enum value's schema name",
        EnumLabel => "the enum's database label",
        EpochSeconds => "Date from epoch seconds",
        EpochMillis => "Date from epoch milliseconds",
        IntBoolean => "boolean (integer mode 'boolean')",
        IntOrBoolean => "number",
        Raw => "the database value",
    }
}

/// Fractional-second digits a time type keeps (`timestamp(6)` → 6; no
/// precision → the dialect's default).
pub fn time_precision(dialect: Dialect, db_type: &str) -> Option<u32> {
    let t = db_type.trim_end_matches("[]");
    let base = t.split('(').next().unwrap_or(t);
    if !matches!(
        base,
        "timestamp" | "timestamptz" | "time" | "timetz" | "datetime"
    ) {
        return None;
    }
    if let Some(args) = t.split_once('(').map(|x| x.1)
        && let Ok(p) = args.trim_end_matches(')').trim().parse::<u32>()
    {
        return Some(p);
    }
    Some(match dialect {
        Dialect::Postgres => 6,
        Dialect::Mysql => 0,
        // SQLite stores whatever text it is given.
        Dialect::Sqlite => 3,
    })
}

/// Whether a read keeps every fractional digit the column holds.
fn keeps_micros(read: ReadMode) -> bool {
    matches!(
        read,
        ReadMode::DateTimeString | ReadMode::TimeString | ReadMode::Raw
    )
}

/// Whether an enum has a value whose schema name differs from its label.
fn enum_is_mapped(m: &Mapping, c: &Column) -> bool {
    c.enum_name
        .as_deref()
        .and_then(|n| m.enum_def(n))
        .is_some_and(|e| e.values.iter().any(|v| v.name != v.db_name))
}

/// The shape differences between two readings of the same column.
pub fn classify(a: &Column, am: &Mapping, b: &Column, bm: &Mapping) -> Vec<Shape> {
    use ReadMode::*;
    let (la, lb) = (orm_label(am.orm), orm_label(bm.orm));
    let mut out = Vec::new();
    let mut push = |code: &str, risk: ShapeRisk, message: String| {
        out.push(Shape {
            code: code.to_string(),
            risk,
            message,
        })
    };
    if a.is_list != b.is_list {
        let (l, s) = if a.is_list { (la, lb) } else { (lb, la) };
        push(
            "SHAPE_LIST_VS_SCALAR",
            ShapeRisk::Shape,
            format!("{l} reads a list where {s} reads a single value"),
        );
    }
    let (ra, rb) = (a.read, b.read);
    let either = |x: ReadMode, y: ReadMode| (ra == x && rb == y) || (ra == y && rb == x);
    let one_of = |xs: &[ReadMode], ys: &[ReadMode]| {
        (xs.contains(&ra) && ys.contains(&rb)) || (xs.contains(&rb) && ys.contains(&ra))
    };
    // Which side reads `x` (for messages).
    let who = |x: &[ReadMode]| if x.contains(&ra) { (la, lb) } else { (lb, la) };
    // A numeric column read as a string holds a date's text when the other
    // side reads a date there (SQLite): it is the stored text, not a decimal.
    let said = |r: ReadMode, other: ReadMode| {
        if r == DecimalString
            && matches!(other, DateTime | Date | Time | EpochSeconds | EpochMillis)
        {
            "string (numeric mode 'string': the stored text)"
        } else {
            describe(r)
        }
    };
    let gives = format!("{la} gives {}, {lb} gives {}", said(ra, rb), said(rb, ra));

    let precision =
        time_precision(am.dialect, &a.db_type).or_else(|| time_precision(bm.dialect, &b.db_type));
    if ra != rb {
        let date_like = [DateTime, Date, Time, EpochSeconds, EpochMillis];
        let string_like = [DateTimeString, DateString, TimeString, Text, DecimalString];
        if either(DateTime, DateTimeString)
            || either(Date, DateString)
            || either(Time, TimeString)
            || one_of(&date_like, &string_like)
        {
            push("SHAPE_DATE_VS_STRING", ShapeRisk::Shape, gives.clone());
        } else if one_of(&[Decimal], &[DecimalString]) {
            push("SHAPE_DECIMAL_VS_STRING", ShapeRisk::Shape, gives.clone());
        } else if one_of(&[Decimal, DecimalString, Raw], &[DecimalNumber]) {
            let (n, _) = who(&[DecimalNumber]);
            push(
                "SHAPE_DECIMAL_NUMBER",
                ShapeRisk::Value,
                format!(
                    "{gives}: {n} reads the decimal as a JS number, so digits beyond about 15 significant are lost"
                ),
            );
        } else if one_of(&[BigInt, Raw, Int], &[BigIntNumber]) {
            let (n, _) = who(&[BigIntNumber]);
            push(
                "SHAPE_BIGINT_NUMBER",
                ShapeRisk::Value,
                format!("{gives}: {n} mode 'number' loses integers above 2^53"),
            );
        } else if one_of(&[BigInt], &[Int]) {
            // A 64-bit integer (SQLite integer) read as a JS number.
            let (n, _) = who(&[Int]);
            push(
                "SHAPE_BIGINT_NUMBER",
                ShapeRisk::Value,
                format!(
                    "{gives}: {n} reads the 64-bit integer as a number and loses integers above 2^53"
                ),
            );
        } else if one_of(&[EnumName], &[EnumLabel, Text, Raw]) {
            let (m, c) = if ra == EnumName { (am, a) } else { (bm, b) };
            if enum_is_mapped(m, c) {
                let mapped: Vec<String> = c
                    .enum_name
                    .as_deref()
                    .and_then(|n| m.enum_def(n))
                    .map(|e| {
                        e.values
                            .iter()
                            .filter(|v| v.name != v.db_name)
                            .map(|v| format!("{} ↔ '{}'", v.name, v.db_name))
                            .collect()
                    })
                    .unwrap_or_default();
                push(
                    "SHAPE_ENUM_NAME_VS_LABEL",
                    ShapeRisk::Shape,
                    format!("{gives} ({})", mapped.join(", ")),
                );
            }
        } else if one_of(&[Boolean, IntBoolean], &[Int, BigIntNumber, Float]) {
            push("SHAPE_BOOLEAN_VS_NUMBER", ShapeRisk::Shape, gives.clone());
        } else if one_of(&[Json], &[Text]) {
            push("SHAPE_JSON_VS_STRING", ShapeRisk::Shape, gives.clone());
        } else if one_of(
            &[EpochSeconds],
            &[DateTime, DateTimeString, EpochMillis, Raw],
        ) {
            // Both hand a `Date` (issue 17): a risk note, no shape.
            push(
                "SHAPE_TIMESTAMP_PRECISION",
                ShapeRisk::Note,
                format!(
                    "{gives}: epoch seconds drop milliseconds, and values written as epoch milliseconds or ISO text read differently"
                ),
            );
        } else if ra != Raw && rb != Raw && ra.js_shape() != rb.js_shape() {
            push("SHAPE_OTHER", ShapeRisk::Shape, gives.clone());
        }
    }
    // Prisma's Date keeps milliseconds; a string (or the database) keeps µs.
    let cuts = |r: ReadMode| matches!(r, DateTime | Time);
    if let Some(p) = precision
        && p > 3
        && ((cuts(ra) && keeps_micros(rb)) || (cuts(rb) && keeps_micros(ra)))
    {
        let (c, k) = if cuts(ra) { (la, lb) } else { (lb, la) };
        // The Date-vs-string shape is stated once (SHAPE_DATE_VS_STRING);
        // the precision is a risk note about values.
        push(
            "SHAPE_TIMESTAMP_PRECISION",
            ShapeRisk::Note,
            format!(
                "{c} cuts the value to milliseconds where {k} keeps all {p} fractional digits ({})",
                a.db_type
            ),
        );
    }
    out
}
