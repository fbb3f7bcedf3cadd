//! A benchmark session: what every run of one invocation shares (nginx's address, the
//! catalog, the signed-in shoppers, the process groups), and the shoppers signed in again
//! before a run their tokens would not outlast.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::args::Args;
use crate::mix::{Shopper, World};
use crate::run::{self, Mode, RunResult, Spec};
use crate::{procs, setup};

pub struct Session {
    pub args: Args,
    pub addr: SocketAddr,
    pub catalog: setup::Catalog,
    pub tokens: Vec<String>,
    pub tokens_expire: Instant,
    pub groups: Vec<procs::Group>,
}

impl Session {
    fn world(&self) -> Result<Arc<World>> {
        Ok(Arc::new(World {
            weights: self.args.mix.clone(),
            product_ids: self.catalog.product_ids.clone(),
            browse_paths: self.catalog.browse_paths.clone(),
            search_paths: self.catalog.search_paths.clone(),
            shoppers: self
                .tokens
                .iter()
                .map(|t| Shopper::new(t))
                .collect::<Result<_>>()?,
            card_token: self.args.card_token.clone(),
        }))
    }

    /// Signs the shoppers in again when their tokens would expire during the next run.
    async fn fresh_tokens(&mut self) -> Result<()> {
        let needed = Duration::from_secs_f64(self.args.duration + self.args.warmup + 60.0);
        if self.tokens_expire > Instant::now() + needed {
            return Ok(());
        }
        eprintln!("signing the shoppers in again (their tokens would expire during the next run)");
        let (tokens, expire, _) = setup::shoppers(
            self.addr,
            &self.args.user_prefix,
            self.args.users,
            self.args.signin_concurrency,
            false, // registered at the start: signing in again is enough
        )
        .await?;
        self.tokens = tokens;
        self.tokens_expire = expire;
        Ok(())
    }

    pub async fn run(&mut self, mode: Mode, rate: Option<f64>, label: &str) -> Result<RunResult> {
        self.fresh_tokens().await?;
        let spec = Spec {
            mode,
            rate,
            duration_s: self.args.duration,
            warmup_s: self.args.warmup,
            connections: self.args.connections,
        };
        run::run(self.world()?, self.addr, spec, self.groups.clone(), label).await
    }
}
