//! A stack's data stores as a whole: both servers ready (installed, started, signed into),
//! and a private stack's databases, users and Redis keys removed (tests, benchmarks).

use super::mysql::MysqlAdmin;
use super::redis;
use crate::say;
use crate::stack::table::STACK_PARTS;

/// MySQL/MariaDB and Redis answer, installed and started when missing on this host;
/// `mysql` then holds a login that can create databases and users (maybe mall_admin).
pub fn ensure_databases(mysql: &mut MysqlAdmin, redis_url: &str) -> anyhow::Result<()> {
    mysql.ensure()?;
    redis::ensure_redis(redis_url)
}

/// The databases and users of every part with a database, under `db_prefix`, and every
/// Redis key under `redis_prefix`, removed; what could not be removed is warned about.
pub fn drop_stack_data(mysql: &MysqlAdmin, db_prefix: &str, redis_url: &str, redis_prefix: &str) {
    for part in STACK_PARTS.iter() {
        let Some((db, user)) = part.database else {
            continue;
        };
        let (db, user) = (format!("{db_prefix}{db}"), format!("{db_prefix}{user}"));
        if let Err(err) = mysql.drop_service_db(&db, &user) {
            say::warn(&format!(
                "could not drop the {} database: {err:#}",
                part.name
            ));
        }
    }
    if let Err(err) = redis::delete_prefix(redis_url, redis_prefix) {
        say::warn(&format!(
            "could not delete the Redis keys under {redis_prefix}: {err:#}"
        ));
    }
}
