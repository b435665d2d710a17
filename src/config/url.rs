//! Database URLs: [`DbUrl`], which never prints its password, the one
//! redaction rule every report and error uses, and a URL flag's value
//! (a URL, or the name of a variable holding one). No I/O, no driver.

use std::fmt;
use std::path::Path;

/// A database URL. It never prints its password or its full text: reports
/// and errors show [`DbUrl::redacted`].
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(String);

/// A URL flag whose value is neither a URL nor a set variable.
#[derive(Debug, thiserror::Error)]
#[error(
    "{flag} {value:?} is neither a database URL nor a set environment variable; pass postgres://…, sqlite:PATH, or the name of a variable holding one"
)]
pub struct UrlArgError {
    pub flag: String,
    pub value: String,
}

impl DbUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DbUrl(url.into())
    }

    /// A database URL flag's value: a URL, or the name of an environment
    /// variable holding one (`DATABASE_URL`, `$DATABASE_URL`), so the URL
    /// need not appear on a command line.
    pub fn from_arg(value: &str, flag: &str) -> Result<DbUrl, UrlArgError> {
        if value.contains(':') {
            return Ok(DbUrl::new(value));
        }
        match std::env::var(value.trim_start_matches('$')) {
            Ok(v) if !v.is_empty() => Ok(DbUrl::new(v)),
            _ => Err(UrlArgError {
                flag: flag.to_string(),
                value: value.to_string(),
            }),
        }
    }

    /// The full URL, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `postgres://host:5432/db` — scheme, host, port and database only.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
    /// The backend this URL points at, from its scheme alone (no I/O);
    /// `None` for a scheme parity has no backend for.
    pub fn dialect(&self) -> Option<crate::mapping::Dialect> {
        use crate::mapping::Dialect;
        match self.scheme() {
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
    pub fn scheme(&self) -> &str {
        // Something that is not a scheme (`role:password@host`, a typo'd
        // URL) is never echoed: it may hold a user name or a password.
        match self.0.split_once("://") {
            Some((s, _)) if is_scheme(s) => s,
            _ => match self.0.split_once(':') {
                Some((s, _)) if KNOWN_SCHEMES.contains(&s) => s,
                _ => "",
            },
        }
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", self.redacted())
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Drops user, password and query string from a URL. A password may hold
/// an unencoded `#`, `?`, `/` or `@`, so the user part ends at the last
/// `@`, found before anything else is cut (issue 10).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // sqlite:path: the scheme and file name only. Anything else that
        // does not parse is never echoed past its scheme.
        return match url.split_once(':') {
            Some(("sqlite", path)) => sqlite_name(path.split('?').next().unwrap_or("")),
            Some((scheme, _)) if KNOWN_SCHEMES.contains(&scheme) => format!("{scheme}:…"),
            _ => "<url>".to_string(),
        };
    };
    if !is_scheme(scheme) {
        return "<url>".to_string();
    }
    let host_and_path = match rest.rfind('@') {
        Some(i) => &rest[i + 1..],
        None => rest,
    };
    let host_and_path = host_and_path.split(['?', '#']).next().unwrap_or("");
    if scheme == "sqlite" {
        return sqlite_name(host_and_path);
    }
    format!("{scheme}://{host_and_path}")
}

/// `sqlite:` and the file name, without its folders.
fn sqlite_name(path: &str) -> String {
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("sqlite:{name}")
}

/// The schemes parity has a backend for.
pub const KNOWN_SCHEMES: &[&str] = &["postgres", "postgresql", "mysql", "mariadb", "sqlite"];

fn is_scheme(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 20
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_show_passwords() {
        let url = DbUrl::new("postgres://app:s3cret@db.internal:5432/shop");
        assert_eq!(url.redacted(), "postgres://db.internal:5432/shop");
        assert!(!format!("{url} {url:?}").contains("s3cret"));
        for (url, shown) in [
            ("sqlite:/tmp/x/shop.db?mode=ro", "sqlite:shop.db"),
            ("sqlite:///tmp/x/shop.db", "sqlite:shop.db"),
            // Issue 10: unencoded #, ?, / and @ in a password.
            (
                "postgres://role:Hx7Qw#x@db:5432/shop",
                "postgres://db:5432/shop",
            ),
            (
                "postgres://role:Hx?7Qw@db:5432/shop",
                "postgres://db:5432/shop",
            ),
            (
                "postgres://role:H/x@7Qw@db:5432/shop?sslmode=require",
                "postgres://db:5432/shop",
            ),
            ("postgres:role:Hx7Qw@db", "postgres:…"),
            ("role:Hx7Qw@db", "<url>"),
            ("not a url at all", "<url>"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        assert_eq!(DbUrl::new("role:Hx7Qw@db").scheme(), "");
    }

    #[test]
    fn a_url_flag_takes_a_url_or_a_variable_name() {
        assert_eq!(
            DbUrl::from_arg("sqlite:x.db", "--url").unwrap().expose(),
            "sqlite:x.db"
        );
        let e = DbUrl::from_arg("PARITY_TEST_SURELY_UNSET_URL", "--target").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--target \"PARITY_TEST_SURELY_UNSET_URL\" is neither a database URL"),
            "{e}"
        );
    }
}
