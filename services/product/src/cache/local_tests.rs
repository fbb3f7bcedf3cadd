use std::time::Duration;

use super::*;

fn local() -> Local {
    Local::new(Duration::from_secs(60))
}

fn template() -> Template {
    Template::plain(&1).expect("plain")
}

#[test]
fn a_stock_read_before_a_bump_is_not_stored() {
    let local = local();
    let seen = local.stocks_of(&[7])[0].expect_err("nothing cached yet");
    local.bump(&[7]);
    local.store_stock(seen, 5);
    assert!(
        local.stocks_of(&[7])[0].is_err(),
        "the read predates the bump"
    );

    let seen = local.stocks_of(&[7])[0].expect_err("still nothing cached");
    local.store_stock(seen, 4);
    assert_eq!(local.stocks_of(&[7])[0], Ok(4));
    local.bump(&[7, 8]);
    assert!(local.stocks_of(&[7])[0].is_err(), "a bump drops the stock");
}

#[test]
fn a_flush_drops_everything_and_refuses_what_was_read_before_it() {
    let local = local();
    let seen = local.stocks_of(&[7])[0].expect_err("nothing cached yet");
    let epoch = local.epoch();
    local.flush();
    local.store_stock(seen, 5);
    local.store("page", epoch, template());
    assert!(local.stocks_of(&[7])[0].is_err());
    assert!(local.entry("page").is_none(), "loaded before the flush");

    let epoch = local.epoch();
    local.store("page", epoch, template());
    assert!(local.entry("page").is_some());
    local.flush();
    assert!(local.entry("page").is_none(), "a flush drops the entries");
}

#[test]
fn too_many_stocks_move_the_epoch() {
    let local = local();
    let seen = local.stocks_of(&[1])[0].expect_err("nothing cached yet");
    let ids: Vec<u64> = (0..MAX_STOCKS as u64 + 1).collect();
    local.bump(&ids);
    local.store_stock(seen, 5);
    assert!(
        local.stocks_of(&[1])[0].is_err(),
        "a read from before the drop is refused"
    );
}

#[test]
fn a_stock_is_kept_no_longer_than_the_ttl() {
    let local = Local::new(Duration::from_millis(50));
    let seen = local.stocks_of(&[7])[0].expect_err("nothing cached yet");
    local.store_stock(seen, 5);
    assert_eq!(local.stocks_of(&[7])[0], Ok(5));
    std::thread::sleep(Duration::from_millis(60));
    assert!(local.stocks_of(&[7])[0].is_err(), "expired");
}
