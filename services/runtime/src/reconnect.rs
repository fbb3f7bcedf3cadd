//! How a long-lived connection (a Redis subscription) is retried: after a failure, wait and
//! try again, doubling the wait up to a ceiling, back to the first wait once a try got
//! connected; and say so once per outage, not at every try.

use std::time::Duration;

pub struct Reconnect {
    first: Duration,
    max: Duration,
    wait: Duration,
    /// The last try had connected (or none was made yet): the next failure starts an outage.
    was_up: bool,
}

impl Reconnect {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            wait: first,
            was_up: true,
        }
    }

    /// After a try ended: `connected` says whether it got connected before failing.
    /// Answers whether this failure starts an outage (worth a warning; later ones of the
    /// same outage are not).
    pub fn failed(&mut self, connected: bool) -> bool {
        if connected {
            self.wait = self.first;
            self.was_up = true;
        }
        std::mem::replace(&mut self.was_up, false)
    }

    /// Waits before the next try.
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.advance()).await;
    }

    /// The wait before the next try; the one after is twice as long (up to the ceiling).
    fn advance(&mut self) -> Duration {
        let now = self.wait;
        self.wait = (self.wait * 2).min(self.max);
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_announced_once_and_waits_double_up_to_the_ceiling() {
        let ms = Duration::from_millis;
        let mut r = Reconnect::new(ms(100), ms(300));
        assert!(r.failed(false), "the first failure starts an outage");
        assert!(!r.failed(false), "the next of the same outage does not");
        let waits: Vec<Duration> = (0..4).map(|_| r.advance()).collect();
        assert_eq!(waits, [ms(100), ms(200), ms(300), ms(300)]);
        assert!(r.failed(true), "connected, then failed: a new outage");
        assert_eq!(r.advance(), ms(100), "the wait starts over");
    }
}
