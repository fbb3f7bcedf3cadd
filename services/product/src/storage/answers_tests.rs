use super::*;

fn qty(product_id: u64, quantity: u32) -> ItemQty {
    ItemQty {
        product_id,
        quantity,
    }
}

fn item(outcome: &str, product_id: u64) -> ReserveRow {
    (
        outcome.into(),
        product_id,
        Some(format!("P{product_id}")),
        Some(100),
        Some("KRW".into()),
    )
}

fn short(product_id: u64) -> ReserveRow {
    ("out_of_stock".into(), product_id, None, None, None)
}

fn row(outcome: &str, status: Option<&str>) -> CommitRow {
    (outcome.into(), status.map(Into::into))
}

fn release_row(outcome: &str, status: Option<&str>, ids: Option<&str>) -> ReleaseRow {
    (outcome.into(), status.map(Into::into), ids.map(Into::into))
}

#[test]
fn outcome_names_round_trip_and_nothing_else_parses() {
    for o in ReserveOutcome::ALL {
        assert_eq!(ReserveOutcome::parse(o.as_str()).ok(), Some(o));
    }
    for o in MoveOutcome::ALL {
        assert_eq!(MoveOutcome::parse(o.as_str()).ok(), Some(o));
    }
    for unknown in ["", "Reserved", "reserved ", "ok", "product_id", "committed"] {
        assert!(ReserveOutcome::parse(unknown).is_err(), "{unknown:?}");
    }
    for unknown in ["", "Moved", "moved ", "released", "none", "out_of_stock"] {
        assert!(MoveOutcome::parse(unknown).is_err(), "{unknown:?}");
    }
}

#[test]
fn reserved_items_come_with_the_quantities_asked() {
    let wanted = [qty(3, 2), qty(9, 1)];

    let got = reserved(vec![item("reserved", 3), item("reserved", 9)], &wanted);

    let items = match got {
        Ok(Reserved::Items(items)) => items,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        items
            .iter()
            .map(|i| (i.product_id, i.quantity))
            .collect::<Vec<_>>(),
        [(3, 2), (9, 1)]
    );
    assert_eq!(items[0].name, "P3");
}

#[test]
fn out_of_stock_names_its_product() {
    let got = reserved(vec![short(9)], &[qty(3, 2), qty(9, 1)]);

    assert_eq!(got.ok(), Some(Reserved::OutOfStock(9)));
}

#[test]
fn a_reserve_answer_that_is_not_the_contract_is_an_error() {
    let wanted = [qty(3, 2), qty(9, 1)];
    let mut null_name = item("reserved", 9);
    null_name.2 = None;
    let short_with_fields = item("out_of_stock", 9);
    let bad: [Vec<ReserveRow>; 9] = [
        vec![],
        vec![item("reserved", 3)],
        vec![item("reserved", 9), item("reserved", 3)],
        vec![
            item("reserved", 3),
            item("reserved", 9),
            item("reserved", 10),
        ],
        vec![item("reserved", 3), null_name],
        vec![item("reserved", 3), item("RESERVED", 9)],
        vec![item("reserved", 3), short(9)],
        vec![short(9), short(3)],
        vec![short_with_fields],
    ];
    for rows in bad {
        let shown = format!("{rows:?}");
        assert!(reserved(rows, &wanted).is_err(), "{shown}");
    }
    // The old answer's shape (reserve_v1): no outcome column, so the first value is no
    // outcome this code knows.
    assert!(reserved(vec![item("7", 3), item("7", 9)], &wanted).is_err());
}

#[test]
fn commit_answers_decode_as_the_domain_says() {
    let ok = [
        (row("moved", Some("committed")), Moved::Applied),
        (row("unchanged", Some("committed")), Moved::AlreadyDone),
        (
            row("refused", Some("released")),
            Moved::Refused(Status::Released),
        ),
        (row("not_found", None), Moved::NotFound),
    ];
    for (answer, want) in ok {
        let shown = format!("{answer:?}");
        assert_eq!(committed(answer).ok(), Some(want), "{shown}");
    }
}

#[test]
fn a_commit_answer_against_the_rule_or_unknown_is_an_error() {
    let bad = [
        row("moved", Some("reserved")),
        row("moved", Some("released")),
        row("moved", None),
        // Refused from a status the commit is allowed from, or at its target.
        row("refused", Some("reserved")),
        row("refused", Some("committed")),
        // Unchanged anywhere but at the target.
        row("unchanged", Some("reserved")),
        row("unchanged", Some("released")),
        row("not_found", Some("reserved")),
        row("refused", Some("Released")),
        row("refused", Some("cancelled")),
        row("committed", Some("committed")),
        row("", None),
    ];
    for answer in bad {
        let shown = format!("{answer:?}");
        assert!(committed(answer).is_err(), "{shown}");
    }
}

#[test]
fn release_answers_decode_as_the_domain_says() {
    let ok = [
        (
            release_row("moved", Some("released"), Some("[3, 9]")),
            (Moved::Applied, vec![3, 9]),
        ),
        (
            release_row("unchanged", Some("released"), None),
            (Moved::AlreadyDone, vec![]),
        ),
        (
            release_row("not_found", None, None),
            (Moved::NotFound, vec![]),
        ),
    ];
    for (answer, want) in ok {
        let shown = format!("{answer:?}");
        assert_eq!(released(answer).ok(), Some(want), "{shown}");
    }
}

#[test]
fn a_release_answer_against_the_rule_or_unknown_is_an_error() {
    let bad = [
        release_row("moved", Some("released"), None),
        release_row("moved", Some("released"), Some("3")),
        release_row("moved", Some("released"), Some("[-1]")),
        release_row("moved", Some("committed"), Some("[3]")),
        release_row("unchanged", Some("released"), Some("[3]")),
        release_row("unchanged", Some("reserved"), None),
        release_row("unchanged", Some("committed"), None),
        // No status of the domain refuses a release.
        release_row("refused", Some("released"), None),
        release_row("refused", Some("reserved"), None),
        release_row("not_found", Some("released"), None),
        release_row("released", Some("released"), None),
        release_row("unchanged", Some("gone"), None),
    ];
    for answer in bad {
        let shown = format!("{answer:?}");
        assert!(released(answer).is_err(), "{shown}");
    }
}
