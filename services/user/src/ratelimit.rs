//! Login and registration limits (docs/limits.md, "Logins and registrations"),
//! counted in Redis so every copy of the service shares them. Keys hold hashes, never an
//! email or an address.
//!
//! Failed logins are counted per source address + account (a "pair") and per source
//! address. Up to a threshold they cost nothing; from it on, every attempt must wait for a
//! delay that doubles with each further failure (1 s, 2 s, 4 s, … up to a cap) and is
//! answered `429` with `Retry-After` meanwhile; when the delay has passed, one attempt gets
//! through (it reserves the next delay) and is checked. Nothing is counted per account
//! alone, so nobody elsewhere can hold an account's owner back, and even at the attacker's
//! own address the owner's right password gets in after the announced delay (and clears
//! that pair). Redis trouble never refuses anyone: it is logged, and nginx's per-address
//! rate limit still bounds the rate.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use mall_store::cache::Redis;
use sha2::{Digest, Sha256};

/// Admission: `0` (go ahead; a slot past a delay is reserved) or the milliseconds to wait.
/// KEYS: pair, address. ARGV: now (ms), pair threshold, address threshold, cap (ms).
const ADMIT: &str = r"
local now, cap = tonumber(ARGV[1]), tonumber(ARGV[4])
local wait, due = 0, {}
for i, key in ipairs(KEYS) do
  local over = tonumber(redis.call('HGET', key, 'f') or '0') - tonumber(ARGV[i + 1])
  if over >= 0 then
    local at = tonumber(redis.call('HGET', key, 'until') or '0')
    if at > now then wait = math.max(wait, at - now) else due[#due + 1] = {key, over} end
  end
end
if wait > 0 then return wait end
for _, d in ipairs(due) do
  redis.call('HSET', d[1], 'until', string.format('%d', now + math.min(1000 * 2 ^ d[2], cap)))
end
return 0
";

/// A failure: counts it on both keys and, at or past a threshold, sets the next delay.
/// KEYS: pair, address. ARGV: now (ms), pair threshold, address threshold, cap (ms),
/// window (ms).
const FAILED: &str = r"
local now, cap, window = tonumber(ARGV[1]), tonumber(ARGV[4]), tonumber(ARGV[5])
for i, key in ipairs(KEYS) do
  local over = redis.call('HINCRBY', key, 'f', 1) - tonumber(ARGV[i + 1])
  if over >= 0 then
    local at = now + math.min(1000 * 2 ^ over, cap)
    if at > tonumber(redis.call('HGET', key, 'until') or '0') then
      redis.call('HSET', key, 'until', string.format('%d', at))
    end
  end
  redis.call('PEXPIRE', key, window)
end
return 0
";

static ADMIT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(ADMIT));
static FAILED_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(FAILED));

#[derive(Clone)]
pub struct LoginLimit {
    pub redis: Redis,
    /// Free failures per address + account.
    pub pair_max_failures: u32,
    /// Free failures per address, over all accounts.
    pub address_max_failures: u32,
    /// Counters end this long after their last failure.
    pub window_secs: u64,
    /// The longest delay between two attempts.
    pub max_delay_secs: u64,
}

/// Registrations per address within a fixed window.
#[derive(Clone)]
pub struct RegisterLimit {
    pub redis: Redis,
    pub max_per_address: u32,
    pub window_secs: u64,
}

/// The client's address as nginx saw it (`X-Real-IP`, which nginx always overwrites), an
/// IPv6 address reduced to its /64 (one subscriber's usual allocation); `unknown` without.
pub fn client_address(real_ip: Option<&str>) -> String {
    match real_ip.and_then(|v| v.trim().parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    }
}

fn hashed(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// Whole seconds to announce for `ms` milliseconds (at least 1).
fn secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

// === impl LoginLimit ===

impl LoginLimit {
    fn keys(&self, address: &str, email: &str) -> [String; 2] {
        [
            self.redis
                .key(&format!("login:pair:{}", hashed(&[address, email]))),
            self.redis
                .key(&format!("login:addr:{}", hashed(&[address]))),
        ]
    }

    fn script_args<'a>(
        &self,
        script: &'a redis::Script,
        address: &str,
        email: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut call = script.prepare_invoke();
        for key in self.keys(address, email) {
            call.key(key);
        }
        call.arg(now_ms())
            .arg(self.pair_max_failures)
            .arg(self.address_max_failures)
            .arg(self.max_delay_secs.saturating_mul(1000));
        call
    }

    /// `Some(retry_after_secs)` when this attempt must wait; `None` lets it be checked.
    pub async fn admit(&self, address: &str, email: &str) -> Option<u64> {
        let call = self.script_args(&ADMIT_SCRIPT, address, email);
        match call.invoke_async::<u64>(&mut self.redis.conn()).await {
            Ok(0) => None,
            Ok(wait_ms) => Some(secs(wait_ms)),
            Err(e) => {
                tracing::warn!(error = %e, "login limit unavailable (Redis); not limiting");
                None
            }
        }
    }

    pub async fn record_failure(&self, address: &str, email: &str) {
        let mut call = self.script_args(&FAILED_SCRIPT, address, email);
        call.arg(self.window_secs.saturating_mul(1000));
        if let Err(e) = call.invoke_async::<()>(&mut self.redis.conn()).await {
            tracing::warn!(error = %e, "cannot record a failed login (Redis)");
        }
    }

    /// The right password from `address`: that pair starts over (the address's own count
    /// does not, so one account of an attacker's cannot wash their other failures away).
    pub async fn succeeded(&self, address: &str, email: &str) {
        let [pair, _] = self.keys(address, email);
        let del = redis::cmd("DEL")
            .arg(&pair)
            .query_async::<()>(&mut self.redis.conn())
            .await;
        if let Err(e) = del {
            tracing::warn!(error = %e, "cannot reset the failed-login counter (Redis)");
        }
    }
}

// === impl RegisterLimit ===

impl RegisterLimit {
    /// Counts a registration attempt from `address`; `Some(retry_after_secs)` beyond the
    /// limit of the current window.
    pub async fn admit(&self, address: &str) -> Option<u64> {
        let key = self
            .redis
            .key(&format!("register:addr:{}", hashed(&[address])));
        let counted: Result<(u64, i64), _> = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(self.window_secs)
            .arg("NX")
            .ignore()
            .pttl(&key)
            .query_async(&mut self.redis.conn())
            .await;
        match counted {
            Ok((n, ttl_ms)) if n > u64::from(self.max_per_address) => Some(secs(
                u64::try_from(ttl_ms).unwrap_or(self.window_secs * 1000),
            )),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "registration limit unavailable (Redis); not limiting");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_what_nginx_saw_and_ipv6_counts_per_64() {
        assert_eq!(client_address(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_address(Some(" 203.0.113.7 ")), "203.0.113.7");
        assert_eq!(
            client_address(Some("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_address(Some("2001:db8:1:2::9")),
            client_address(Some("2001:db8:1:2:ffff::1"))
        );
        assert_eq!(client_address(Some("::ffff:10.0.0.1")), "10.0.0.1");
        assert_eq!(client_address(Some("not an address")), "unknown");
        assert_eq!(client_address(None), "unknown");
    }

    #[test]
    fn keys_hide_the_email_and_the_address() {
        let h = hashed(&["203.0.113.7", "ann@example.com"]);
        assert_eq!(h.len(), 32);
        assert!(!h.contains("ann") && !h.contains("203"));
        assert_ne!(h, hashed(&["203.0.113.8", "ann@example.com"]));
        assert_eq!(secs(1), 1);
        assert_eq!(secs(1000), 1);
        assert_eq!(secs(1001), 2);
        assert_eq!(secs(0), 1);
    }
}
