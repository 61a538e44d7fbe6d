//! `EmailAddress`: a parsed, case-folded address, and its *matching key*, which folds the variants a
//! mail provider delivers to the same mailbox (Gmail dots, `+tags`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but white space.
    #[error("the email address is empty")]
    Empty,
    /// No `@`, or more than one outside a quoted local part.
    #[error("`{0}` is not an email address: it needs exactly one `@`")]
    MissingAt(String),
    /// Nothing before the `@`.
    #[error("`{0}` has nothing before the `@`")]
    EmptyLocalPart(String),
    /// The domain is empty, has no dot, or has an empty or invalid label.
    #[error("`{0}` has an invalid domain")]
    InvalidDomain(String),
    /// White space or a control character inside the address.
    #[error("`{0}` contains white space or a control character")]
    InvalidCharacter(String),
    /// Longer than RFC 5321 allows (254 characters).
    #[error("the email address is longer than 254 characters")]
    TooLong,
}

/// A syntactically valid email address: trimmed, angle brackets and a `mailto:` prefix removed,
/// and case-folded (the local part is case-folded too: every provider Rolodex syncs with treats it
/// case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// Domains of free-mail providers: a shared domain there says nothing about a shared employer.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "live.com.au",
    "msn.com",
    "yahoo.com",
    "yahoo.com.au",
    "yahoo.co.uk",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "yandex.ru",
    "fastmail.com",
    "bigpond.com",
    "bigpond.net.au",
    "optusnet.com.au",
    "qq.com",
    "163.com",
    "t-online.de",
];

/// Providers that document `+tag` sub-addressing (deliver `a+x@d` to `a@d`).
const PLUS_TAG_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
    "yahoo.com",
];

impl EmailAddress {
    /// Parses and normalises an address.
    ///
    /// # Errors
    /// An [`EmailError`] naming what is wrong.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let mut s = input.trim();
        if let Some(rest) = s.strip_prefix("mailto:").or_else(|| s.strip_prefix("MAILTO:")) {
            s = rest.trim();
        }
        if let (Some(open), true) = (s.rfind('<'), s.ends_with('>')) {
            s = s[open + 1..s.len() - 1].trim();
        }
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::InvalidCharacter(s.to_owned()));
        }
        let (local, domain) = match s.rsplit_once('@') {
            Some((l, d)) if !l.contains('@') || (l.starts_with('"') && l.ends_with('"')) => (l, d),
            _ => return Err(EmailError::MissingAt(s.to_owned())),
        };
        if local.is_empty() {
            return Err(EmailError::EmptyLocalPart(s.to_owned()));
        }
        let domain = domain.trim_end_matches('.');
        let valid_domain = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !valid_domain {
            return Err(EmailError::InvalidDomain(s.to_owned()));
        }
        Ok(Self(format!("{}@{}", local.to_lowercase(), domain.to_lowercase())))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    #[must_use]
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    /// The domain, lower case.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// True for free-mail domains (gmail.com, outlook.com, ...), where a shared domain means nothing.
    #[must_use]
    pub fn is_free_mail(&self) -> bool {
        FREE_MAIL_DOMAINS.contains(&self.domain())
    }

    /// The key under which two addresses reach the same mailbox: for Gmail / Googlemail the dots of
    /// the local part are dropped and `googlemail.com` becomes `gmail.com`; for providers that
    /// document `+tag` sub-addressing the tag is dropped.
    #[must_use]
    pub fn matching_key(&self) -> String {
        let (mut local, mut domain) = (self.local_part(), self.domain());
        if PLUS_TAG_DOMAINS.contains(&domain)
            && let Some((base, _tag)) = local.split_once('+')
            && !base.is_empty()
        {
            local = base;
        }
        if domain == "googlemail.com" {
            domain = "gmail.com";
        }
        if domain == "gmail.com" {
            let undotted: String = local.chars().filter(|&c| c != '.').collect();
            return format!("{undotted}@{domain}");
        }
        format!("{local}@{domain}")
    }

    /// A short human description of how `self` and `other` were found equal (for match reasons).
    #[must_use]
    pub fn equality_note(&self, other: &Self) -> &'static str {
        if self == other {
            "same email"
        } else if self.domain() != other.domain() {
            "same email after folding googlemail.com to gmail.com"
        } else if self.local_part().contains('+') || other.local_part().contains('+') {
            "same email after removing a +tag"
        } else {
            "same email after folding Gmail dots"
        }
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<(&str, &str), EmailError>) {
        let got = EmailAddress::parse(input).map(|e| (e.as_str().to_owned(), e.matching_key()));
        let expected = expected.map(|(a, k)| (a.to_owned(), k.to_owned()));
        assert_eq!(got, expected, "input: {input:?}");
    }

    #[test]
    fn parses_and_folds() {
        check("  Jane.Doe@Example.COM ", Ok(("jane.doe@example.com", "jane.doe@example.com")));
        check("J.a.n.e+news@gmail.com", Ok(("j.a.n.e+news@gmail.com", "jane@gmail.com")));
        check("jane.doe@googlemail.com", Ok(("jane.doe@googlemail.com", "janedoe@gmail.com")));
        check("bob+crm@outlook.com", Ok(("bob+crm@outlook.com", "bob@outlook.com")));
        // A +tag at a provider that does not document sub-addressing is part of the mailbox.
        check("bob+crm@acme.io", Ok(("bob+crm@acme.io", "bob+crm@acme.io")));
        // Dots only fold at Gmail.
        check("b.o.b@outlook.com", Ok(("b.o.b@outlook.com", "b.o.b@outlook.com")));
        check("Jane <jane@acme.io>", Ok(("jane@acme.io", "jane@acme.io")));
        check("mailto:jane@acme.io", Ok(("jane@acme.io", "jane@acme.io")));
        check("+tag@gmail.com", Ok(("+tag@gmail.com", "+tag@gmail.com")));
    }

    #[test]
    fn rejects_bad_input() {
        check("", Err(EmailError::Empty));
        check("   ", Err(EmailError::Empty));
        check("jane", Err(EmailError::MissingAt("jane".into())));
        check("a@b@c.com", Err(EmailError::MissingAt("a@b@c.com".into())));
        check("@acme.io", Err(EmailError::EmptyLocalPart("@acme.io".into())));
        check("jane@localhost", Err(EmailError::InvalidDomain("jane@localhost".into())));
        check("jane@-acme.io", Err(EmailError::InvalidDomain("jane@-acme.io".into())));
        check("jane@acme..io", Err(EmailError::InvalidDomain("jane@acme..io".into())));
        check("ja ne@acme.io", Err(EmailError::InvalidCharacter("ja ne@acme.io".into())));
    }

    #[test]
    fn free_mail_and_notes() {
        let a = EmailAddress::parse("jane.doe@gmail.com").unwrap();
        let b = EmailAddress::parse("janedoe@gmail.com").unwrap();
        assert!(a.is_free_mail());
        assert_eq!(a.equality_note(&b), "same email after folding Gmail dots");
        assert!(!EmailAddress::parse("x@acme.io").unwrap().is_free_mail());
    }
}
