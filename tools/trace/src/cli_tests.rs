use super::*;

const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const NOW: i64 = 1_800_000_000_000_000;

fn run(args: &[&str]) -> Result<Request, String> {
    let argv = std::iter::once("mall-trace").chain(args.iter().copied());
    match parse(argv, NOW)? {
        Parsed::Run(r) => Ok(r),
        Parsed::Help => Err("help".into()),
    }
}

#[test]
fn trace_ids_are_normalised_or_refused() {
    assert_eq!(normalize_trace_id(ID).as_deref(), Ok(ID));
    assert_eq!(normalize_trace_id(&ID.to_uppercase()).as_deref(), Ok(ID));
    assert_eq!(normalize_trace_id(&format!(" {ID}\n")).as_deref(), Ok(ID));
    let parent = format!("00-{}-00F067AA0BA902B7-01", ID.to_uppercase());
    assert_eq!(normalize_trace_id(&parent).as_deref(), Ok(ID));
    for bad in [
        "",
        "4bf9",
        &"0".repeat(32),
        &format!("{ID}0"),
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        &format!("00-{ID}-00f067aa0ba902b7"),
        &format!("0-{ID}-00f067aa0ba902b7-01"),
        &format!("00-{ID}-zzf067aa0ba902b7-01"),
        &format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
    ] {
        assert!(normalize_trace_id(bad).is_err(), "{bad:?}");
    }
    let msg = normalize_trace_id("bad\u{1b}[31m").expect_err("not an id");
    assert!(!msg.contains('\u{1b}'), "{msg}");
}

#[test]
fn the_source_is_the_last_one_named() {
    assert_eq!(run(&[ID]).map(|r| r.choice), Ok(Choice::Auto));
    assert_eq!(run(&[ID, "--local"]).map(|r| r.choice), Ok(Choice::Local));
    assert_eq!(
        run(&[ID, "--compose"]).map(|r| r.choice),
        Ok(Choice::Compose)
    );
    assert_eq!(
        run(&["--dir", "/tmp/logs", ID]).map(|r| r.choice),
        Ok(Choice::Dir("/tmp/logs".into()))
    );
    assert_eq!(
        run(&[ID, "--dir", "/a", "--compose"]).map(|r| r.choice),
        Ok(Choice::Compose)
    );
    assert_eq!(
        run(&[ID, "--compose", "--dir=/b"]).map(|r| r.choice),
        Ok(Choice::Dir("/b".into()))
    );
    assert_eq!(
        run(&[ID, "--dir", "/a", "--dir", "/b"]).map(|r| r.choice),
        Ok(Choice::Dir("/b".into()))
    );
}

#[test]
fn options_are_read() {
    let r = run(&[
        &ID.to_uppercase(),
        "--json",
        "--wide",
        "--stats",
        "--since",
        "2h",
    ])
    .expect("valid");
    assert_eq!(r.trace, ID);
    assert!(r.json && r.wide && r.stats);
    assert_eq!(
        r.since,
        Some(When {
            given: "2h".into(),
            us: NOW - 7_200_000_000
        })
    );
    assert_eq!(r.until, None);
    let r = run(&[
        ID,
        "--until=2026-11-21 14:05",
        "--since=15m",
        "--since",
        "90s",
    ])
    .expect("valid");
    assert_eq!(r.since.map(|w| w.us), Some(NOW - 90_000_000));
    assert_eq!(r.until.map(|w| w.given), Some("2026-11-21 14:05".into()));
    assert_eq!(run(&[ID, "--threads", "1"]).map(|r| r.threads), Ok(Some(1)));
}

#[test]
fn help_wins() {
    for args in [
        &["--help"][..],
        &["-h"],
        &[ID, "--help"],
        &["not-an-id", "-h"],
    ] {
        let argv = std::iter::once("mall-trace").chain(args.iter().copied());
        assert_eq!(parse(argv, NOW), Ok(Parsed::Help), "{args:?}");
    }
    for line in [
        "--dir DIR",
        "--local",
        "--compose",
        "--since WHEN",
        "Exit status: 0 found",
    ] {
        assert!(HELP.contains(line), "{line}");
    }
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    let refused = |args: &[&str], want: &str| {
        let msg = run(args).expect_err("refused");
        assert!(msg.contains(want), "{args:?}: {msg}");
    };
    refused(&[], "which trace id?");
    refused(&["--json"], "which trace id?");
    refused(&["not-a-trace-id"], "is not a trace id");
    refused(&[ID, ID], "one trace id at a time");
    refused(&[ID, "--frobnicate"], "unknown option: --frobnicate");
    refused(&[ID, "--dir"], "--dir needs a directory");
    refused(&[ID, "--since"], "--since needs a value");
    refused(
        &[ID, "--since", "yesterday"],
        "--since \"yesterday\": use a duration",
    );
    refused(&[ID, "--until", "15x"], "--until \"15x\": use a duration");
    refused(&[ID, "--threads", "many"], "many");
}
