//! The user service's internal call (`/internal/users/stats`) for the admin stats.

use serde::{Deserialize, Serialize};

use crate::client::ServiceClient;

/// `GET /internal/users/stats`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UserStats {
    pub users: u64,
}

/// The user service as the order service sees it.
#[derive(Clone, Debug)]
pub struct UserClient(ServiceClient);

impl UserClient {
    pub fn new(client: ServiceClient) -> Self {
        Self(client)
    }

    pub async fn stats(&self) -> anyhow::Result<UserStats> {
        self.0.get_json("/internal/users/stats").await
    }
}
