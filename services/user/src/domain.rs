//! Types that are valid by construction: an account's email, password, name and roles.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A lower-cased email address of plausible shape (one `@`, a dotted domain, ≤ 254 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

/// Characters that show nothing (zero-width spaces and joiners, bidirectional controls, the
/// soft hyphen, fillers, variation selectors, tags): two addresses that differ only by them
/// look identical, so an address holding one is refused.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{E0000}'..='\u{E0FFF}')
}

impl Email {
    /// Trimmed, in Unicode NFC and lower case (so one address has one spelling: an `é`
    /// typed as one character or as `e` + accent is the same account, and so is any case);
    /// refused when it holds an invisible character.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc();
        let lower = nfc.normalize(raw.trim()).to_lowercase();
        let s = nfc.normalize(&lower).into_owned();
        if s.chars().any(is_invisible) {
            return Err("email contains an invisible character".into());
        }
        let (local, domain) = s.split_once('@').ok_or("email must contain @")?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';')
            });
        if ok {
            Ok(Self(s))
        } else {
            Err("email is not a valid address".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 10 to 256 characters.
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: SecretString) -> Result<Self, String> {
        let n = raw.expose_secret().chars().count();
        if n < Self::MIN_CHARS {
            return Err(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(format!(
                "password must be at most {} characters",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// A display name: docs/openapi.yaml's `Label100` (1 to 100 characters as sent, not only
/// whitespace, no control characters), stored trimmed.
#[derive(Clone, Debug)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, String> {
        mall_http::limits::label("name", raw, 100).map(|s| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The roles there are.
pub const KNOWN_ROLES: [&str; 2] = ["customer", "admin"];

/// A non-empty, de-duplicated set of known roles in a stable order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles(Vec<String>);

impl Roles {
    pub fn customer() -> Self {
        Self(vec!["customer".into()])
    }

    pub fn admin() -> Self {
        Self(vec!["customer".into(), "admin".into()])
    }

    pub fn parse(raw: &[String]) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("roles must not be empty".into());
        }
        if let Some(bad) = raw.iter().find(|r| !KNOWN_ROLES.contains(&r.as_str())) {
            return Err(format!(
                "unknown role {bad:?}; known roles: customer, admin"
            ));
        }
        // A set (docs/openapi.yaml `uniqueItems`): a repeat is refused, not merged.
        if raw.iter().enumerate().any(|(i, r)| raw[..i].contains(r)) {
            return Err("roles must not repeat a role".into());
        }
        Ok(Self(
            KNOWN_ROLES
                .iter()
                .filter(|k| raw.iter().any(|r| r == *k))
                .map(|k| (*k).to_owned())
                .collect(),
        ))
    }

    /// From the stored comma-separated form (trusted: written by this service).
    pub fn from_stored(s: &str) -> Self {
        Self(
            s.split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn to_stored(&self) -> String {
        self.0.join(",")
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn contains(&self, role: &str) -> bool {
        self.0.iter().any(|r| r == role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(|e| e.to_string()),
            Ok("ann@example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@.com",
            "ann@@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn look_alike_emails_are_one_spelling_or_refused() {
        // é as one character, and as e + combining acute accent: one account.
        assert_eq!(
            Email::parse("Jos\u{e9}@example.com"),
            Email::parse("jose\u{301}@EXAMPLE.com")
        );
        for invisible in [
            "\u{200B}",
            "\u{200D}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{202E}",
            "\u{00AD}",
            "\u{E0041}",
        ] {
            let raw = format!("ad{invisible}min@mall.local");
            assert!(Email::parse(&raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn password_length_is_bounded() {
        assert!(Password::parse(SecretString::from("short")).is_err());
        assert!(Password::parse(SecretString::from("long enough")).is_ok());
        assert!(Password::parse(SecretString::from("x".repeat(257))).is_err());
    }

    #[test]
    fn roles_are_known_unrepeated_and_ordered() {
        let r = Roles::parse(&["admin".into(), "customer".into()]);
        assert_eq!(r.map(|r| r.to_stored()), Ok("customer,admin".into()));
        assert!(Roles::parse(&["admin".into(), "customer".into(), "admin".into()]).is_err());
        assert!(Roles::parse(&[]).is_err());
        assert!(Roles::parse(&["root".into()]).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Ann ").map(|n| n.as_str().to_owned()),
            Ok("Ann".into())
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("a\u{7}b").is_err());
        assert!(Name::parse(&"n".repeat(101)).is_err());
    }
}
