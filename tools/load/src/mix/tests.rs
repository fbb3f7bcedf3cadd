use super::*;

#[test]
fn weights_follow_the_reference_mix() {
    let w = Weights::default();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut counts = [0u32; 6];
    let n = 290_000;
    for _ in 0..n {
        counts[w.pick(&mut rng).index()] += 1;
    }
    // 10/29 of 290,000 is 100,000; each count within 2 % of its share.
    for (i, &weight) in w.0.iter().enumerate() {
        let expected = f64::from(weight) * f64::from(n) / 29.0;
        let got = f64::from(counts[i]);
        assert!(
            (got - expected).abs() < expected * 0.02,
            "route {i}: {got} vs {expected}"
        );
    }
}

#[test]
fn weights_parse_and_reject() {
    let w: Weights = "checkout=0,browse=5".parse().expect("parses");
    assert_eq!(w.0, [5, 10, 3, 3, 2, 0]);
    assert!("nope=1".parse::<Weights>().is_err());
    assert!("browse=x".parse::<Weights>().is_err());
    let zero = "browse=0,detail=0,search=0,view_cart=0,add_to_cart=0,checkout=0";
    assert!(zero.parse::<Weights>().is_err());
    let only: Weights = "browse=0,detail=0,search=0,view_cart=0,add_to_cart=0"
        .parse()
        .expect("parses");
    let mut rng = fastrand::Rng::with_seed(1);
    assert!((0..1000).all(|_| only.pick(&mut rng) == Route::Checkout));
}

fn world(shoppers: usize) -> World {
    World {
        weights: "browse=0,detail=0,search=0,view_cart=0,add_to_cart=0"
            .parse()
            .expect("weights"),
        product_ids: vec![3],
        browse_paths: vec![],
        search_paths: vec![],
        shoppers: (0..shoppers)
            .map(|i| Shopper::new(&format!("t{i}")).expect("shopper"))
            .collect(),
        card_token: "tok_ok".into(),
    }
}

#[test]
fn checkout_takes_a_filled_cart_once_and_falls_back_to_items() {
    let w = world(1);
    let mut rng = fastrand::Rng::with_seed(3);
    // Empty cart: explicit items.
    let p = w.plan(&mut rng);
    assert!(!p.from_cart);
    w.settle(&p, Some(StatusCode::CREATED));
    let body = p.call.body.clone().expect("body");
    assert!(std::str::from_utf8(&body)
        .expect("utf8")
        .contains("\"items\""));
    // A filled cart: ordered from the cart, and not twice at the same time.
    w.shoppers[0].cart_lines.store(2, Ordering::Relaxed);
    let first = w.plan(&mut rng);
    assert!(first.from_cart);
    let second = w.plan(&mut rng);
    assert!(!second.from_cart, "one request per shopper at a time");
    assert!(second.shopper.is_none(), "the only shopper is busy");
    assert!(second.call.auth.is_some(), "still signed in");
    w.settle(&first, Some(StatusCode::CREATED));
    assert_eq!(w.shoppers[0].cart_lines.load(Ordering::Relaxed), 0);
    assert!(!w.shoppers[0].busy.load(Ordering::Relaxed));
    w.settle(&second, Some(StatusCode::CREATED));
    // A full cart gets no more lines.
    let adds = World {
        weights: "browse=0,detail=0,search=0,view_cart=0,checkout=0"
            .parse()
            .expect("weights"),
        ..world(1)
    };
    adds.shoppers[0]
        .cart_lines
        .store(FULL_CART, Ordering::Relaxed);
    let add = adds.plan(&mut rng);
    assert_eq!(add.route, Route::AddToCart);
    assert!(add.shopper.is_none(), "a full cart is not taken for an add");
    adds.shoppers[0]
        .cart_lines
        .store(FULL_CART - 1, Ordering::Relaxed);
    let add = adds.plan(&mut rng);
    assert_eq!(add.shopper, Some(0));
    adds.settle(&add, Some(StatusCode::OK));
    assert_eq!(
        adds.shoppers[0].cart_lines.load(Ordering::Relaxed),
        FULL_CART
    );
    // Keys are unique per request.
    assert_ne!(first.call.idempotency_key, second.call.idempotency_key);
}
