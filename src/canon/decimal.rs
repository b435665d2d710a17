//! Exact decimals and JavaScript numbers, without allocating.
//!
//! Owns: parsing decimal text into (sign, digits, exponent), writing the
//! normalised decimal payload, the shortest round-trip digits of an f64
//! (what JavaScript prints) and JavaScript's `Number.prototype.toString`
//! layout. It does not choose tags for read modes (that is `canon`).

use std::fmt::{self, Write as _};

/// Payload kinds after the decimal tag.
pub(super) const FINITE: u8 = 0;
pub(super) const NAN: u8 = 1;
pub(super) const POS_INF: u8 = 2;
pub(super) const NEG_INF: u8 = 3;

/// Decimal text split into its parts: the value is
/// `±int.frac × 10^exp`. The digit slices borrow the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Dec<'a> {
    Finite {
        neg: bool,
        int: &'a [u8],
        frac: &'a [u8],
        exp: i64,
    },
    NaN,
    Inf {
        neg: bool,
    },
}

/// Parses decimal text: `[+-]digits[.digits][e[+-]digits]` (either digit
/// run may be empty but not both), surrounding ASCII blanks allowed, plus
/// the spellings PostgreSQL and decimal.js use for the special values
/// (`NaN`, `Infinity`, `-Infinity`). Anything else is `None`.
pub(super) fn parse(s: &str) -> Option<Dec<'_>> {
    let b = s.trim_ascii().as_bytes();
    match b {
        b"NaN" => return Some(Dec::NaN),
        b"Infinity" | b"+Infinity" => return Some(Dec::Inf { neg: false }),
        b"-Infinity" => return Some(Dec::Inf { neg: true }),
        _ => {}
    }
    let (neg, b) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int, mut b) = b.split_at(n);
    let mut frac: &[u8] = &[];
    if let Some(rest) = b.strip_prefix(b".") {
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        (frac, b) = rest.split_at(n);
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp = 0i64;
    if let [b'e' | b'E', rest @ ..] = b {
        let (eneg, rest) = match rest.first()? {
            b'-' => (true, &rest[1..]),
            b'+' => (false, &rest[1..]),
            _ => (false, rest),
        };
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        // Saturate: anything this large is rejected by `push` anyway.
        for &c in &rest[..n] {
            exp = (exp * 10 + i64::from(c - b'0')).min(1 << 40);
        }
        if eneg {
            exp = -exp;
        }
        b = &rest[n..];
    }
    if !b.is_empty() {
        return None;
    }
    Some(Dec::Finite {
        neg,
        int,
        frac,
        exp,
    })
}

/// Appends the normalised payload of `±int.frac × 10^exp`: kind, sign,
/// exponent (i32 LE), digit count (u32 LE), digits, where the value is
/// `±digits × 10^exponent` with no leading or trailing zero digit. Zero is
/// sign 0, exponent 0, no digits (so `-0` == `0` == `0.000`). Returns
/// `false`, writing nothing, when the exponent does not fit an i32.
pub(super) fn push(out: &mut Vec<u8>, neg: bool, int: &[u8], frac: &[u8], exp: i64) -> bool {
    let total = int.len() + frac.len();
    let at = |k: usize| {
        if k < int.len() {
            int[k]
        } else {
            frac[k - int.len()]
        }
    };
    let Some(first) = (0..total).find(|&k| at(k) != b'0') else {
        out.extend_from_slice(&[FINITE, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        return true;
    };
    let last = (first..total)
        .rev()
        .find(|&k| at(k) != b'0')
        .unwrap_or(first);
    let trailing = (total - 1 - last) as i64;
    let e = exp - frac.len() as i64 + trailing;
    let (Ok(e), Ok(len)) = (i32::try_from(e), u32::try_from(last - first + 1)) else {
        return false;
    };
    out.push(FINITE);
    out.push(u8::from(neg));
    out.extend_from_slice(&e.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    if first >= int.len() {
        out.extend_from_slice(&frac[first - int.len()..=last - int.len()]);
    } else if last < int.len() {
        out.extend_from_slice(&int[first..=last]);
    } else {
        out.extend_from_slice(&int[first..]);
        out.extend_from_slice(&frac[..=last - int.len()]);
    }
    true
}

/// Appends the payload for an exact integer.
pub(super) fn push_i128(out: &mut Vec<u8>, v: i128) {
    let mut buf = [0u8; 40];
    let digits = u128_digits(v.unsigned_abs(), &mut buf);
    push(out, v < 0, digits, &[], 0);
}

/// Appends the payload for the decimal JavaScript holds for `f`: the
/// shortest digits that round-trip, so `0.1` is exactly `0.1`.
pub(super) fn push_f64(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.push(NAN);
    } else if f.is_infinite() {
        out.push(if f > 0.0 { POS_INF } else { NEG_INF });
    } else {
        let s = Shortest::of(f);
        // Exponent of a finite f64 is within ±400: always fits.
        push(
            out,
            s.neg,
            s.digits(),
            &[],
            i64::from(s.point) - s.len as i64,
        );
    }
}

/// ASCII digits of `v`, written at the end of `buf`.
pub(super) fn u128_digits(mut v: u128, buf: &mut [u8; 40]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Reads a decimal payload (after the tag) and renders it as plain digits,
/// e.g. `-0.000000000000000000000000000001`, `12345678.9`, `NaN`. Returns
/// the text and the payload length.
pub(super) fn decode(b: &[u8]) -> Option<(String, usize)> {
    match *b.first()? {
        NAN => Some(("NaN".into(), 1)),
        POS_INF => Some(("Infinity".into(), 1)),
        NEG_INF => Some(("-Infinity".into(), 1)),
        FINITE => {
            let neg = *b.get(1)? != 0;
            let exp = i32::from_le_bytes(b.get(2..6)?.try_into().ok()?);
            let len = u32::from_le_bytes(b.get(6..10)?.try_into().ok()?) as usize;
            let digits = b.get(10..10usize.checked_add(len)?)?;
            Some((plain(neg, digits, i64::from(exp)), 10 + len))
        }
        _ => None,
    }
}

/// `±digits × 10^exp` as plain decimal text; scientific notation only when
/// the plain form would exceed a few hundred characters.
fn plain(neg: bool, digits: &[u8], exp: i64) -> String {
    let digits = std::str::from_utf8(digits).unwrap_or("?");
    if digits.is_empty() {
        return "0".into();
    }
    let mut s = String::with_capacity(digits.len() + 8);
    if neg {
        s.push('-');
    }
    let n = digits.len() as i64;
    if exp >= 0 && n + exp <= 400 {
        s.push_str(digits);
        s.extend(std::iter::repeat_n('0', exp as usize));
    } else if exp < 0 && -exp < n {
        let cut = (n + exp) as usize;
        s.push_str(&digits[..cut]);
        s.push('.');
        s.push_str(&digits[cut..]);
    } else if exp < 0 && -exp - n <= 400 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-exp - n) as usize));
        s.push_str(digits);
    } else {
        s.push_str(&digits[..1]);
        if n > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let _ = write!(s, "e{:+}", exp + n - 1);
    }
    s
}

/// The shortest round-trip decimal digits of a finite f64:
/// `|f| = 0.d₁d₂…dₗ × 10^point`. Zero is the single digit `0`, point 1.
pub(super) struct Shortest {
    pub neg: bool,
    buf: [u8; 20],
    pub len: usize,
    pub point: i32,
}

/// A fixed buffer `fmt::Write` target, so the std float printer (shortest
/// round-trip, Grisu/Dragon) can run without allocating.
struct StackBuf {
    b: [u8; 40],
    n: usize,
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.n + s.len();
        let dst = self.b.get_mut(self.n..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.n = end;
        Ok(())
    }
}

impl Shortest {
    pub fn of(f: f64) -> Shortest {
        let mut w = StackBuf { b: [0; 40], n: 0 };
        // `{:e}` prints the shortest digits: `1.2345e4`, `1e-7`, `0e0`.
        let _ = write!(w, "{:e}", f.abs());
        let text = &w.b[..w.n];
        let mut s = Shortest {
            neg: f.is_sign_negative() && f != 0.0,
            buf: [0; 20],
            len: 0,
            point: 0,
        };
        let mut i = 0;
        while i < text.len() && text[i] != b'e' {
            if text[i].is_ascii_digit() && s.len < s.buf.len() {
                s.buf[s.len] = text[i];
                s.len += 1;
            }
            i += 1;
        }
        let exp: i32 = std::str::from_utf8(&text[(i + 1).min(text.len())..])
            .ok()
            .and_then(|e| e.parse().ok())
            .unwrap_or(0);
        s.point = exp + 1;
        s
    }

    pub fn digits(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Appends `f` as JavaScript's `String(f)` prints it (ECMA-262
/// Number::toString): `100`, `0.1`, `1e+21`, `1.5e-7`, `NaN`, `-Infinity`;
/// `-0` prints as `0`.
pub(super) fn push_js_number(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    let s = Shortest::of(f);
    let d = s.digits();
    let (k, n) = (d.len() as i32, s.point);
    if s.neg {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(d);
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&d[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&d[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(d);
    } else {
        out.push(d[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&d[1..]);
        }
        out.push(b'e');
        out.push(if n >= 1 { b'+' } else { b'-' });
        let mut buf = [0u8; 40];
        out.extend_from_slice(u128_digits(u128::from((n - 1).unsigned_abs()), &mut buf));
    }
}

/// JavaScript `Number(text)` for the decimal spellings a database prints;
/// `None` for text JavaScript would turn into `NaN` by accident (junk).
pub(super) fn js_number(s: &str) -> Option<f64> {
    match parse(s)? {
        // std's parser is correctly rounded, as ECMA-262 requires.
        Dec::Finite { .. } => s.trim_ascii().parse().ok(),
        Dec::NaN => Some(f64::NAN),
        Dec::Inf { neg } => Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut out = Vec::new();
        match parse(s).unwrap() {
            Dec::Finite {
                neg,
                int,
                frac,
                exp,
            } => assert!(push(&mut out, neg, int, frac, exp)),
            _ => panic!("special"),
        }
        decode(&out).unwrap().0
    }

    fn js(f: f64) -> String {
        let mut out = Vec::new();
        push_js_number(&mut out, f);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn normalises_exact_decimals() {
        assert_eq!(norm("56"), "56");
        assert_eq!(norm("56.0"), "56");
        assert_eq!(norm("056.00"), "56");
        assert_eq!(norm("-0.00"), "0");
        assert_eq!(norm("0"), "0");
        assert_eq!(norm("12345678.90"), "12345678.9");
        assert_eq!(norm("1200"), "1200");
        assert_eq!(norm("1.2e3"), "1200");
        assert_eq!(norm(".5"), "0.5");
        assert_eq!(
            norm("-0.000000000000000000000000000001"),
            "-0.000000000000000000000000000001"
        );
        assert_eq!(norm("1e-300").len(), 302);
        assert_eq!(norm("1e-500"), "1e-500");
        assert_eq!(norm("1e5000"), "1e+5000");
    }

    #[test]
    fn rejects_non_decimals() {
        for bad in ["", "-", ".", "1e", "1.2.3", "abc", "0x10", "inf", "1 2"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let mut out = Vec::new();
        assert!(!push(&mut out, false, b"1", b"", 1 << 40));
        assert!(out.is_empty());
    }

    #[test]
    fn prints_numbers_like_javascript() {
        assert_eq!(js(0.1), "0.1");
        assert_eq!(js(100.0), "100");
        assert_eq!(js(-0.0), "0");
        assert_eq!(js(1.1), "1.1");
        assert_eq!(js(12345678901234567890.0), "12345678901234567000");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(1e-7), "1e-7");
        assert_eq!(js(1.5e-7), "1.5e-7");
        assert_eq!(js(0.000001), "0.000001");
        assert_eq!(js(-123.456), "-123.456");
        assert_eq!(js(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(js(5e-324), "5e-324");
        assert_eq!(js(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn js_number_accepts_db_spellings_only() {
        assert_eq!(js_number("12345678.90"), Some(12345678.9));
        assert_eq!(js_number(" 1e2 "), Some(100.0));
        assert!(js_number("NaN").unwrap().is_nan());
        assert_eq!(js_number("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(js_number("inf"), None);
        assert_eq!(js_number("abc"), None);
    }
}
