//! The other services as the order service sees them: the typed clients of
//! `mall-contracts`, each calling the callee's live blue/green slot (through nginx's
//! internal listener, or directly where the config names both slots), every call carrying
//! the request's trace id.

use mall_contracts::cart::CartClient;
use mall_contracts::payment::PaymentClient;
use mall_contracts::product::ProductClient;
use mall_contracts::user::UserClient;
use mall_contracts::{ServiceClient, Target};

pub use mall_contracts::payment::{ChargeRequest, PaymentStatus};
pub use mall_contracts::product::{ReserveRequest, Reserved, ReservedItem};

#[derive(Clone)]
pub struct Clients {
    pub product: ProductClient,
    pub cart: CartClient,
    pub payment: PaymentClient,
    pub user: UserClient,
}

impl Clients {
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Self> {
        let c = |target: &Target| ServiceClient::to(target.clone(), config.call_timeout);
        Ok(Self {
            product: ProductClient::new(c(&config.product)?),
            cart: CartClient::new(c(&config.cart)?),
            payment: PaymentClient::new(c(&config.payment)?),
            user: UserClient::new(c(&config.user)?),
        })
    }
}
