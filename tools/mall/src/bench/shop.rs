//! The bench's own calls to the shop through nginx: sanity statuses, a fresh customer,
//! logins, the admin's token.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::json;

use super::http;
use super::Bench;
use crate::host::random_hex;
use crate::say;

/// A signed-in customer.
pub struct User {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
    /// When the access token expires (Unix seconds).
    pub token_exp: i64,
}

impl Bench {
    /// Fails (and keeps the state) unless a GET with these headers answers `want`.
    pub fn expect_status(
        &mut self,
        want: u16,
        what: &str,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        let answer = http::request("GET", url, headers, None);
        let (got, body) = match &answer {
            Ok(a) => (a.status, a.body.chars().take(300).collect::<String>()),
            Err(e) => (0, format!("{e:#}")),
        };
        if got != want {
            self.failed = true;
            bail!("sanity check failed: {what}: expected {want}, got {got}: {body}");
        }
        say::log(&format!("sanity: {what}: {got}"));
        Ok(())
    }

    /// Logs a user in; the access token and its expiry.
    pub fn login(&self, email: &str, password: &str) -> Result<(String, i64)> {
        let body = json!({"email": email, "password": password}).to_string();
        let a = http::request(
            "POST",
            &format!("{}/api/users/login", self.url),
            &[],
            Some(&body),
        )?;
        if a.status != 200 {
            bail!("could not log {email} in: {} {}", a.status, a.body);
        }
        let v = a.json()?;
        let token = v["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Ok((token, now + v["expires_in"].as_i64().unwrap_or(0)))
    }

    /// A fresh customer, registered and logged in through nginx.
    pub fn register_and_login(&self) -> Result<User> {
        let email = format!("bench-{}@bench.local", random_hex(4));
        let password = random_hex(12);
        let body = json!({"email": email, "password": password, "name": "Bench User"}).to_string();
        let a = http::request(
            "POST",
            &format!("{}/api/users/register", self.url),
            &[],
            Some(&body),
        )?;
        if !(200..300).contains(&a.status) {
            bail!("could not register the bench user: {} {}", a.status, a.body);
        }
        let id = match &a.json()?["id"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        say::log(&format!("registered {email} (user {id})"));
        let (token, token_exp) = self.login(&email, &password)?;
        Ok(User {
            id,
            email,
            password,
            token,
            token_exp,
        })
    }

    /// The admin's access token (the stack's generated password).
    pub fn admin_token(&self, password_file: &std::path::Path) -> Result<String> {
        let password = std::fs::read_to_string(password_file)
            .with_context(|| format!("while reading {}", password_file.display()))?;
        let email = self
            .env
            .own("MALL_ADMIN_EMAIL")
            .unwrap_or("admin@mall.local")
            .to_owned();
        self.login(&email, password.trim_end())
            .map(|(t, _)| t)
            .context("could not log the admin in")
    }
}
