//! The charges, in memory (the simulator stands in for an external system; a restart
//! forgets them). One lock guards everything, so "look up the idempotency key, else
//! record" is atomic: two concurrent requests with one key make one charge.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::domain::{ChargeStatus, NewCharge, TokenKind};

/// A charge as the API shows it (never with the card token).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Charge {
    pub id: u64,
    pub status: ChargeStatus,
    pub amount: i64,
    pub currency: String,
    pub reference: String,
    pub idempotency_key: String,
    pub created_at: String,
}

/// `GET /v1/stats`: how many charges exist, and how many are in each state now.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub charges: u64,
    pub approved: u64,
    pub declined: u64,
    pub refunded: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LedgerError {
    /// The idempotency key belongs to a charge with another amount, currency or card, or
    /// (for refunds) to another charge.
    KeyReused,
    NotFound,
    NotRefundable(ChargeStatus),
    /// Refunded before under another idempotency key.
    AlreadyRefunded,
}

/// What `charge` did.
#[derive(Debug)]
pub struct Recorded {
    pub charge: Charge,
    /// True when the key was known and the stored charge was returned.
    pub replayed: bool,
}

struct Stored {
    charge: Charge,
    /// Kept only to tell a true retry from a reused key; never serialised or logged.
    card_token: SecretString,
    refund_key: Option<String>,
}

#[derive(Default)]
struct Inner {
    charges: Vec<Stored>,
    by_key: HashMap<String, usize>,
    by_id: HashMap<u64, usize>,
}

pub struct Ledger {
    inner: Mutex<Inner>,
    /// Ids start from the start-up time in milliseconds × 1000, so a restarted simulator
    /// does not hand out the ids of charges it forgot.
    first_id: u64,
}

// === impl Ledger ===

impl Ledger {
    pub fn new(first_id: u64) -> Self {
        Self {
            inner: Mutex::default(),
            first_id: first_id.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing in the critical sections can leave the maps half-written, so a panic
        // elsewhere while holding the lock does not make the data unusable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a charge, or returns the one recorded under the same idempotency key.
    pub fn charge(&self, req: NewCharge, now: String) -> Result<Recorded, LedgerError> {
        let mut inner = self.lock();
        if let Some(&i) = inner.by_key.get(&req.idempotency_key) {
            let stored = &inner.charges[i];
            let same = stored.charge.amount == req.amount
                && stored.charge.currency == req.currency
                && stored.card_token.expose_secret() == req.card_token.expose_secret();
            return if same {
                Ok(Recorded {
                    charge: stored.charge.clone(),
                    replayed: true,
                })
            } else {
                Err(LedgerError::KeyReused)
            };
        }
        let status = match TokenKind::of(&req.card_token) {
            TokenKind::Approve | TokenKind::ApproveLate => ChargeStatus::Approved,
            TokenKind::Decline => ChargeStatus::Declined,
        };
        let index = inner.charges.len();
        let id = self.first_id + index as u64;
        let charge = Charge {
            id,
            status,
            amount: req.amount,
            currency: req.currency,
            reference: req.reference,
            idempotency_key: req.idempotency_key.clone(),
            created_at: now,
        };
        inner.charges.push(Stored {
            charge: charge.clone(),
            card_token: req.card_token,
            refund_key: None,
        });
        inner.by_key.insert(req.idempotency_key, index);
        inner.by_id.insert(id, index);
        Ok(Recorded {
            charge,
            replayed: false,
        })
    }

    /// Charges matching every given filter, oldest first.
    pub fn find(&self, idempotency_key: Option<&str>, reference: Option<&str>) -> Vec<Charge> {
        self.lock()
            .charges
            .iter()
            .map(|s| &s.charge)
            .filter(|c| idempotency_key.is_none_or(|k| c.idempotency_key == k))
            .filter(|c| reference.is_none_or(|r| c.reference == r))
            .cloned()
            .collect()
    }

    /// Refunds an approved charge; the same key again answers the refunded charge.
    pub fn refund(&self, id: u64, key: &str) -> Result<Charge, LedgerError> {
        let mut inner = self.lock();
        // A refund key names one charge for good.
        let used_elsewhere = inner
            .charges
            .iter()
            .any(|s| s.charge.id != id && s.refund_key.as_deref() == Some(key));
        if used_elsewhere {
            return Err(LedgerError::KeyReused);
        }
        let i = *inner.by_id.get(&id).ok_or(LedgerError::NotFound)?;
        let stored = &mut inner.charges[i];
        match stored.charge.status {
            ChargeStatus::Approved => {
                stored.charge.status = ChargeStatus::Refunded;
                stored.refund_key = Some(key.to_owned());
                Ok(stored.charge.clone())
            }
            ChargeStatus::Refunded if stored.refund_key.as_deref() == Some(key) => {
                Ok(stored.charge.clone())
            }
            ChargeStatus::Refunded => Err(LedgerError::AlreadyRefunded),
            ChargeStatus::Declined => Err(LedgerError::NotRefundable(ChargeStatus::Declined)),
        }
    }

    pub fn stats(&self) -> Stats {
        let inner = self.lock();
        let mut stats = Stats {
            charges: inner.charges.len() as u64,
            ..Stats::default()
        };
        for s in &inner.charges {
            match s.charge.status {
                ChargeStatus::Approved => stats.approved += 1,
                ChargeStatus::Declined => stats.declined += 1,
                ChargeStatus::Refunded => stats.refunded += 1,
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, amount: i64, token: &str) -> NewCharge {
        NewCharge {
            idempotency_key: key.into(),
            amount,
            currency: "KRW".into(),
            card_token: SecretString::from(token),
            reference: format!("ref-{key}"),
        }
    }

    fn charge(l: &Ledger, key: &str, amount: i64, token: &str) -> Result<Recorded, LedgerError> {
        l.charge(req(key, amount, token), "2026-01-01T00:00:00Z".into())
    }

    #[test]
    fn tokens_decide_the_outcome() {
        let l = Ledger::new(100);
        let ok = charge(&l, "a", 10, "tok_ok").expect("charge");
        let late = charge(&l, "b", 10, "tok_timeout").expect("charge");
        let no = charge(&l, "c", 10, "tok_declined").expect("charge");
        let unknown = charge(&l, "d", 10, "tok_whatever").expect("charge");
        assert_eq!(ok.charge.status, ChargeStatus::Approved);
        assert_eq!(late.charge.status, ChargeStatus::Approved);
        assert_eq!(no.charge.status, ChargeStatus::Declined);
        assert_eq!(unknown.charge.status, ChargeStatus::Declined);
        assert_eq!([ok.charge.id, no.charge.id], [100, 102]);
        assert_eq!(
            l.stats(),
            Stats {
                charges: 4,
                approved: 2,
                declined: 2,
                refunded: 0
            }
        );
    }

    #[test]
    fn one_key_makes_one_charge() {
        let l = Ledger::new(1);
        let first = charge(&l, "pay-7", 500, "tok_ok").expect("charge");
        let again = charge(&l, "pay-7", 500, "tok_ok").expect("replay");
        assert!(!first.replayed);
        assert!(again.replayed);
        assert_eq!(first.charge, again.charge);
        assert_eq!(l.stats().charges, 1);
        assert_eq!(
            charge(&l, "pay-7", 501, "tok_ok").map(|r| r.charge),
            Err(LedgerError::KeyReused)
        );
        assert_eq!(
            charge(&l, "pay-7", 500, "tok_declined").map(|r| r.charge),
            Err(LedgerError::KeyReused)
        );
        assert_eq!(l.stats().charges, 1);
    }

    #[test]
    fn find_filters_by_key_and_reference() {
        let l = Ledger::new(1);
        charge(&l, "a", 1, "tok_ok").expect("charge");
        charge(&l, "b", 1, "tok_ok").expect("charge");
        assert_eq!(l.find(Some("a"), None).len(), 1);
        assert_eq!(l.find(None, Some("ref-b")).len(), 1);
        assert_eq!(l.find(Some("a"), Some("ref-b")).len(), 0);
        assert!(l.find(Some("zzz"), None).is_empty());
    }

    #[test]
    fn refunds_are_idempotent_per_key_and_happen_once() {
        let l = Ledger::new(1);
        let ok = charge(&l, "a", 1, "tok_ok").expect("charge").charge;
        let no = charge(&l, "b", 1, "tok_declined").expect("charge").charge;
        let r1 = l.refund(ok.id, "refund-1").expect("refund");
        assert_eq!(r1.status, ChargeStatus::Refunded);
        assert_eq!(l.refund(ok.id, "refund-1"), Ok(r1));
        assert_eq!(
            l.refund(ok.id, "refund-other"),
            Err(LedgerError::AlreadyRefunded)
        );
        assert_eq!(
            l.refund(no.id, "refund-2"),
            Err(LedgerError::NotRefundable(ChargeStatus::Declined))
        );
        assert_eq!(l.refund(no.id, "refund-1"), Err(LedgerError::KeyReused));
        assert_eq!(l.refund(999, "refund-3"), Err(LedgerError::NotFound));
        assert_eq!(l.stats().refunded, 1);
        assert_eq!(l.stats().approved, 0);
    }
}
