//! The batch calls of the product service: several orders reserved
//! (`POST /internal/reservations/batch`) or committed (`POST /internal/reservations/commits`)
//! in one call and one transaction.

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::{ItemQty, ProductClient, Reservation, ReservationStatus};
use crate::client::ServiceClient;

impl ProductClient {
    /// Reserves several orders in one call, each all or none. `None` when the callee has
    /// no batch route (a build from before it): reserve one by one.
    pub async fn reserve_many(
        &self,
        request: &ReservesRequest,
    ) -> anyhow::Result<Option<ReservesAnswer>> {
        const PATH: &str = "/internal/reservations/batch";
        let Some(answer) = self.batch::<_, ReservesAnswer>(PATH, request).await? else {
            return Ok(None);
        };
        let asked = request.reservations.iter().map(|r| r.order_id);
        anyhow::ensure!(
            answer
                .reservations
                .iter()
                .map(ReserveOutcome::order_id)
                .eq(asked),
            "{PATH} answered other orders than it was asked"
        );
        Ok(Some(answer))
    }

    /// Commits several orders' reservations in one call (idempotent per order). `None`
    /// when the callee has no batch route (a build from before it): commit one by one.
    pub async fn commit_many(
        &self,
        request: &CommitsRequest,
    ) -> anyhow::Result<Option<CommitsAnswer>> {
        const PATH: &str = "/internal/reservations/commits";
        let Some(answer) = self.batch::<_, CommitsAnswer>(PATH, request).await? else {
            return Ok(None);
        };
        let asked = request.commits.iter().map(|c| c.order_id);
        anyhow::ensure!(
            answer.commits.iter().map(|c| c.order_id).eq(asked),
            "{PATH} answered other orders than it was asked"
        );
        Ok(Some(answer))
    }

    /// POSTs a batch to `path`; `None` when the callee answers 404 (it has no such route).
    async fn batch<B: Serialize, A: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<Option<A>> {
        let resp = self
            .0
            .request(Method::POST, path)
            .json(body)
            .send()
            .await
            .with_context(|| format!("while calling POST {path}"))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        ServiceClient::decode(resp, path).await.map(Some)
    }
}

/// The most orders one `POST /internal/reservations/batch` reserves.
pub const MAX_RESERVES: usize = 100;

/// `POST /internal/reservations/batch`: several orders reserved in one call and one
/// transaction, each all or none (1 to [`MAX_RESERVES`] distinct orders). Each order comes
/// with the trace id of the request that placed it, so product logs its reservation under
/// that id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReservesRequest {
    pub reservations: Vec<ReserveOf>,
}

/// One order of a [`ReservesRequest`]: a [`ReserveRequest`] with its trace id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReserveOf {
    pub order_id: u64,
    pub items: Vec<ItemQty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// The answer of `POST /internal/reservations/batch`: one outcome per order, in the order
/// asked. The call answers 200 whatever each order's outcome, so a 404 means the callee
/// has no such route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReservesAnswer {
    pub reservations: Vec<ReserveOutcome>,
}

/// What reserving one order of a batch found: what `POST /internal/reservations` answers
/// with 200 (`reserved`, a replay too), 409 `out_of_stock`, or 409 `conflict` (the order
/// was reserved before with other items).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReserveOutcome {
    Reserved { reservation: Reservation },
    OutOfStock { order_id: u64, product_id: u64 },
    Conflict { order_id: u64 },
}

impl ReserveOutcome {
    pub fn order_id(&self) -> u64 {
        match self {
            Self::Reserved { reservation } => reservation.order_id,
            Self::OutOfStock { order_id, .. } | Self::Conflict { order_id } => *order_id,
        }
    }
}

/// The most reservations one `POST /internal/reservations/commits` commits.
pub const MAX_COMMITS: usize = 100;

/// `POST /internal/reservations/commits`: several orders' reservations committed in one
/// call and one transaction (1 to [`MAX_COMMITS`] distinct orders). Each order comes with
/// the trace id of the request that paid it, so product logs its commit under that id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CommitsRequest {
    pub commits: Vec<CommitOf>,
}

/// One order of a [`CommitsRequest`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CommitOf {
    pub order_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// The answer of `POST /internal/reservations/commits`: one outcome per order, in the
/// order asked. The call itself answers 200 whatever each order's outcome (an unknown
/// order is an outcome, not a 404), so a 404 means the callee has no such route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CommitsAnswer {
    pub commits: Vec<Committed>,
}

/// What committing one order's reservation found.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Committed {
    pub order_id: u64,
    pub outcome: CommitOutcome,
    /// The reservation's status now (none: there is no reservation of this order).
    pub status: Option<ReservationStatus>,
}

/// [`Committed`]'s outcome: what `POST /internal/reservations/{id}/commit` answers with
/// 200 (`committed`), 409 (`refused`: it was released) or 404 (`not_found`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommitOutcome {
    Committed,
    Refused,
    NotFound,
}
