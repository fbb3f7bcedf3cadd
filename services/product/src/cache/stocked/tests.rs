use super::*;

fn found(entry: &[u8], generations: Vec<u64>, stocks: Vec<Option<i64>>) -> Found {
    (Some(entry.to_vec()), generations, stocks)
}

#[test]
fn an_entry_decodes_as_it_was_encoded_with_its_stocks() {
    let bytes = encode(&[7, 3], &vec![1, 2]).expect("encodes");
    assert_eq!(bytes, b"7,3\n[1,2]");
    let hit = decode::<Vec<u8>>(found(&bytes, vec![4, 0], vec![Some(9), None])).expect("a hit");
    assert_eq!(hit.value, vec![1, 2]);
    assert_eq!(
        hit.stocks,
        [
            StockSlot {
                id: 7,
                generation: 4,
                cached: Some(9)
            },
            StockSlot {
                id: 3,
                generation: 0,
                cached: None
            },
        ]
    );
    let none = encode::<Option<u8>>(&[], &None).expect("encodes");
    assert_eq!(none, b"\nnull");
    let hit = decode::<Option<u8>>(found(&none, vec![], vec![])).expect("a hit");
    assert_eq!((hit.value, hit.stocks), (None, vec![]));
}

#[test]
fn anything_not_in_the_layout_is_a_miss() {
    // Bare JSON, as older builds stored entries.
    assert!(decode::<Option<u8>>(found(b"null", vec![], vec![])).is_none());
    assert!(decode::<Vec<u8>>(found(b"[1,2]", vec![], vec![])).is_none());
    // Heads the lookup script would read otherwise, or not at all.
    for head in [&b"7,,3\n[1]"[..], b"+7\n[1]", b"7 \n[1]", b"7,\n[1]"] {
        assert!(decode::<Vec<u8>>(found(head, vec![0], vec![None])).is_none());
    }
    // An answer that does not match the head, a value of another type, nothing.
    assert!(decode::<Vec<u8>>(found(b"7\n[1]", vec![], vec![])).is_none());
    assert!(decode::<Vec<u8>>(found(b"\n{}", vec![], vec![])).is_none());
    assert!(decode::<Vec<u8>>((None, vec![], vec![])).is_none());
}
