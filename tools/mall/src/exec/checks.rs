//! The waits and checks of a switch: readiness, the direct smoke test, the confirmation
//! through nginx. Each polls until it holds or its deadline passes; never a guessed sleep.

use std::time::{Duration, Instant};

use super::Flow;
use crate::parts::Slot;
use crate::plan::Op;
use crate::{say, signal, Error};

impl Flow<'_> {
    pub(super) fn wait_ready(
        &self,
        op: &Op,
        slot: Slot,
        passes: u32,
        timeout_s: u64,
    ) -> Result<(), Error> {
        let (part, name) = (&self.part, self.part.name);
        if self.dry() {
            println!("  ({})", op.describe(name));
            return Ok(());
        }
        say::log(&format!("waiting for {passes} consecutive /ready passes of {name}-{slot} (deadline {timeout_s}s)"));
        let deadline = Instant::now() + Duration::from_secs(timeout_s);
        let interval = Duration::from_secs_f64(self.opts.ready_interval.max(0.05));
        let mut ok = 0;
        loop {
            signal::check()?;
            if !self.rt.slot_running(part, slot) {
                eprintln!("{}", self.rt.slot_logs(part, slot));
                return Err(Error::Failed(format!(
                    "{name}-{slot} stopped while starting (its last log lines are above)"
                )));
            }
            let code = self.rt.slot_status(part, slot, "/ready");
            ok = if code == 200 { ok + 1 } else { 0 };
            if ok >= passes {
                say::log(&format!("{name}-{slot} is ready"));
                return Ok(());
            }
            if Instant::now() >= deadline {
                eprintln!("{}", self.rt.slot_logs(part, slot));
                return Err(Error::Failed(format!(
                    "{name}-{slot} was not ready within {timeout_s}s (last /ready: {code:03})"
                )));
            }
            std::thread::sleep(interval);
        }
    }

    pub(super) fn smoke(&self, op: &Op, slot: Slot, want: &str) -> Result<(), Error> {
        let (part, name) = (&self.part, self.part.name);
        if self.dry() {
            println!("  ({})", op.describe(name));
            return Ok(());
        }
        let got = self.rt.served_by_slot(part, slot).unwrap_or_default();
        if got != want {
            return Err(Error::Failed(format!(
                "{name}-{slot} answers X-Served-By '{got}', expected '{want}'"
            )));
        }
        for path in ["/health", "/ready"] {
            let code = self.rt.slot_status(part, slot, path);
            if code != 200 {
                return Err(Error::Failed(format!(
                    "{name}-{slot} answers {code:03} on {path}"
                )));
            }
        }
        say::log(&format!("smoke test of {name}-{slot} passed ({want})"));
        Ok(())
    }

    pub(super) fn confirm(
        &self,
        op: &Op,
        want: &str,
        passes: u32,
        timeout_s: u64,
    ) -> Result<(), Error> {
        let name = self.part.name;
        if self.dry() {
            println!("  ({})", op.describe(name));
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(timeout_s);
        let mut ok = 0;
        loop {
            let got = self.rt.served_by_nginx(&self.part).unwrap_or_default();
            ok = if got == want { ok + 1 } else { 0 };
            if ok >= passes {
                say::log(&format!("nginx serves {name} from {want}"));
                return Ok(());
            }
            if Instant::now() >= deadline {
                let got = if got.is_empty() {
                    "nothing".to_owned()
                } else {
                    got
                };
                say::warn(&format!(
                    "nginx still serves {name} from '{got}' after {timeout_s}s, expected '{want}'"
                ));
                return Err(Error::Failed(format!(
                    "nginx does not serve {name} from {want} after the switch"
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
