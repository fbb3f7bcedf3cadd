//! The variables a command's children get on top of this process's environment (set or
//! removed there, never with `std::env::set_var`): the bench's, a test stage's and a CI
//! step's, with the stack settings they name.

use std::path::Path;
use std::process::Command;

use super::mysql::MysqlAdmin;
use crate::stack::config::StackConfig;

#[derive(Clone, Debug, Default)]
pub struct Vars {
    set: Vec<(String, String)>,
    removed: Vec<String>,
}

impl Vars {
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.removed.retain(|k| k != key);
        let value = value.into();
        match self.set.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => self.set.push((key.to_owned(), value)),
        }
    }

    /// The variable is not passed on, even when this process has it.
    pub fn remove(&mut self, key: &str) {
        self.set.retain(|(k, _)| k != key);
        self.removed.push(key.to_owned());
    }

    /// What was set here only.
    pub fn own(&self, key: &str) -> Option<&str> {
        self.set
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A variable as the children see it (set here, else inherited); empty is unset.
    pub fn get(&self, key: &str) -> Option<String> {
        if self.removed.iter().any(|k| k == key) {
            return None;
        }
        self.own(key)
            .map(str::to_owned)
            .or_else(|| std::env::var(key).ok())
            .filter(|v| !v.is_empty())
    }

    /// The value here, else from our environment, else the default, set here.
    pub fn or_inherit(&mut self, key: &str, default: &str) {
        if self.own(key).is_none() {
            let v = self.get(key).unwrap_or_else(|| default.to_owned());
            self.set(key, v);
        }
    }

    pub fn apply(&self, cmd: &mut Command) {
        for k in &self.removed {
            cmd.env_remove(k);
        }
        cmd.envs(self.set.iter().map(|(k, v)| (k, v)));
    }

    /// The database login these variables name (MALL_MYSQL_*).
    pub fn mysql(&self) -> anyhow::Result<MysqlAdmin> {
        MysqlAdmin::from_env(&|k: &str| self.get(k)).map_err(anyhow::Error::from)
    }

    /// MALL_REDIS_URL [redis://127.0.0.1:6379/0].
    pub fn redis_url(&self) -> String {
        self.get("MALL_REDIS_URL")
            .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into())
    }

    /// The stack's settings as scripts/dev reads them from these variables.
    pub fn stack_config(&self, root: &Path) -> anyhow::Result<StackConfig> {
        StackConfig::from_env(root, &|k: &str| self.get(k)).map_err(anyhow::Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_settings_win_and_removal_hides_the_inherited() {
        let mut v = Vars::default();
        v.set("MALL_VARS_TEST_A", "1");
        v.set("MALL_VARS_TEST_A", "2");
        v.remove("PATH");
        assert_eq!(v.get("MALL_VARS_TEST_A").as_deref(), Some("2"));
        assert_eq!(v.own("MALL_VARS_TEST_A"), Some("2"));
        assert_eq!(v.get("PATH"), None);
        v.or_inherit("MALL_VARS_TEST_B", "d");
        assert_eq!(v.own("MALL_VARS_TEST_B"), Some("d"));
    }
}
