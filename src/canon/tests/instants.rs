//! Instants, dates and times of day.

use super::*;

// --- instants -----------------------------------------------------------------

#[test]
fn date_readings_cut_to_milliseconds_and_strings_keep_micros() {
    let t = us("2024-03-05 10:11:12.345678");
    let ms = us("2024-03-05 10:11:12.345");
    assert_canon(&[
        (Raw::Timestamp(t), M::DateTime, Canon::Instant(ms)),
        (Raw::TimestampTz(t), M::DateTime, Canon::Instant(ms)),
        (Raw::Timestamp(t), M::DateTimeString, Canon::Instant(t)),
    ]);
    // Prisma's Date vs Drizzle's string differ only when µs were stored.
    assert_same(&[
        (
            (Raw::Timestamp(t), M::DateTime),
            (Raw::Timestamp(t), M::DateTimeString),
            false,
        ),
        (
            (Raw::Timestamp(ms), M::DateTime),
            (Raw::Timestamp(ms), M::DateTimeString),
            true,
        ),
    ]);
}

#[test]
fn millisecond_cut_floors_before_1970() {
    // 1969-12-31 23:59:59.999999 → 23:59:59.999, not 1970-01-01 00:00:00.
    let t = us("1969-12-31 23:59:59.999999");
    assert_eq!(t, -1);
    assert_canon(&[
        (Raw::Timestamp(t), M::DateTime, Canon::Instant(-1_000)),
        (Raw::Timestamp(-1_001), M::DateTime, Canon::Instant(-2_000)),
        (Raw::Timestamp(-1_000), M::DateTime, Canon::Instant(-1_000)),
        (
            Raw::Text("1969-12-31 23:59:59.999999"),
            M::DateTime,
            Canon::Instant(-1_000),
        ),
    ]);
    assert_eq!(
        canon(Raw::Timestamp(t), M::DateTime).to_string(),
        "1969-12-31T23:59:59.999000Z"
    );
}

#[test]
fn infinity_timestamps_survive_every_reading() {
    for read in [M::DateTime, M::DateTimeString] {
        for v in [i64::MAX, i64::MIN] {
            assert_eq!(canon(Raw::Timestamp(v), read), Canon::Instant(v));
        }
    }
    assert_eq!(
        canon(Raw::Timestamp(i64::MAX), M::DateTime).to_string(),
        "infinity"
    );
}

#[test]
fn sqlite_text_and_epoch_ms_are_instants() {
    let ms = us("2024-03-05T10:11:12.345Z");
    for text in [
        "2024-03-05T10:11:12.345+00:00",
        "2024-03-05T10:11:12.345Z",
        "2024-03-05 10:11:12.345",
        "2024-03-05T12:11:12.3456+02:00",
    ] {
        assert_eq!(
            canon(Raw::Text(text), M::DateTime),
            Canon::Instant(ms),
            "{text}"
        );
    }
    assert_eq!(
        canon(Raw::Text("2024-03-05 10:11:12"), M::DateTime),
        Canon::Instant(ms - 345_000)
    );
    // Prisma ≤ 6 wrote epoch milliseconds; 7 writes ISO text: one column can mix both.
    let epoch_ms = Raw::Int(ms / 1_000);
    assert_same(&[
        (
            (epoch_ms, M::DateTime),
            (Raw::Text("2024-03-05T10:11:12.345+00:00"), M::DateTime),
            true,
        ),
        (
            (epoch_ms, M::DateTime),
            (Raw::Timestamp(ms + 999), M::DateTime),
            true,
        ),
    ]);
}

#[test]
fn unparseable_instants_are_unreadable_not_panics() {
    for junk in [
        "yesterday",
        "2024-02-30 00:00:00",
        "",
        "2024-03-05T10:11:12+25:00",
    ] {
        for read in [M::DateTime, M::DateTimeString] {
            assert_eq!(canon(Raw::Text(junk), read), unreadable(junk), "{read:?}");
        }
    }
    for read in [M::DateTime, M::EpochSeconds] {
        assert!(matches!(
            canon(Raw::Int(i64::MAX), read),
            Canon::Unreadable(_)
        ));
    }
}

#[test]
fn drizzle_sqlite_epoch_modes() {
    let s = us("2024-03-05T10:11:12Z");
    let (seconds, millis) = (Raw::Int(s / 1_000_000), Raw::Int(s / 1_000));
    assert_canon(&[
        (seconds, M::EpochSeconds, Canon::Instant(s)),
        (
            Raw::Int(s / 1_000 + 5),
            M::EpochMillis,
            Canon::Instant(s + 5_000),
        ),
    ]);
    assert_same(&[
        // Same instant through Drizzle seconds and Prisma's ISO text.
        (
            (seconds, M::EpochSeconds),
            (Raw::Text("2024-03-05T10:11:12.000+00:00"), M::DateTime),
            true,
        ),
        ((millis, M::EpochMillis), (millis, M::DateTime), true),
    ]);
}

#[test]
fn raw_keeps_micros_and_tells_timestamp_kinds_apart() {
    let t = us("2024-03-05 10:11:12.345678");
    assert_eq!(canon(Raw::Timestamp(t), M::Raw), Canon::Instant(t));
    let (local, tz) = (Raw::Timestamp(t), Raw::TimestampTz(t));
    assert_same(&[
        ((local, M::Raw), (tz, M::Raw), false),
        ((local, M::DateTimeString), (tz, M::DateTimeString), true),
        ((tz, M::Raw), (tz, M::DateTimeString), true),
    ]);
}

// --- dates and times ------------------------------------------------------------

#[test]
fn dates_compare_by_day() {
    let day = Raw::Date(19_787);
    assert_same(&[
        ((day, M::Date), (day, M::DateString), true),
        (
            (day, M::Date),
            (Raw::Text("2024-03-05"), M::DateString),
            true,
        ),
        (
            (Raw::Date(-1), M::Date),
            (Raw::Text("1969-12-31"), M::Date),
            true,
        ),
        ((day, M::Date), (Raw::Date(19_788), M::DateString), false),
        (
            (Raw::Text("2024-03-05T00:00:00.000+00:00"), M::Date),
            (day, M::DateString),
            true,
        ),
        // A Prisma DateTime on a date column carries the same information.
        ((day, M::DateTime), (day, M::DateString), true),
    ]);
    assert_eq!(canon(day, M::Date).to_string(), "2024-03-05");
    assert_eq!(
        canon(Raw::Text("2024-03-05x"), M::Date),
        unreadable("2024-03-05x")
    );
}

#[test]
fn times_cut_to_ms_for_date_objects() {
    let t = 36_672_345_678; // 10:11:12.345678
    assert_canon(&[
        (Raw::Time(t), M::Time, Canon::Time(36_672_345_000)),
        (Raw::Time(t), M::TimeString, Canon::Time(t)),
    ]);
    assert_same(&[
        (
            (Raw::Time(36_672_345_000), M::Time),
            (Raw::Text("10:11:12.345"), M::TimeString),
            true,
        ),
        (
            (Raw::Time(t), M::Time),
            (Raw::Time(t), M::TimeString),
            false,
        ),
    ]);
    assert_eq!(
        canon(Raw::Time(t), M::TimeString).to_string(),
        "10:11:12.345678"
    );
}
