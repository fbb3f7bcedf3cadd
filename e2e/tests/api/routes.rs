//! Every route of the API contract (shared/API.md) against the three kinds of caller,
//! through nginx: anonymous, a customer, an admin. The "who" column decides: `anyone` is
//! never refused by the auth layer, `customer` refuses only the anonymous caller (401), and
//! `admin` refuses the anonymous caller (401) and the customer (403).
//!
//! "Passes auth" means: not 401/403, not a server error (5xx: a route that is admitted and
//! then breaks is a failure here too, whatever its body), and either a success or the API's
//! standard error body.

use std::fmt;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{mall, product_body, send, unique_email, unique_tag, Mall, Reply, PASSWORD};

/// The "who" column of API.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anyone,
    Customer,
    Admin,
}

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Customer,
    Admin,
}

/// What a row sends as its body.
enum Body {
    None,
    Json(Value),
    /// A registration with an email never used before (each call).
    Registration,
    /// The login of an existing user.
    Login {
        email: String,
    },
    /// A refresh token never used before (each call logs in first).
    FreshRefreshToken {
        email: String,
    },
}

struct Row {
    method: Method,
    path: String,
    who: Who,
    body: Body,
    /// The call spends its token (logout): use a fresh login of the caller instead.
    spends_token: bool,
    /// Send an `Idempotency-Key` (money movements).
    idempotency_key: bool,
}

impl Row {
    fn new(method: Method, path: impl Into<String>, who: Who) -> Self {
        Self {
            method,
            path: path.into(),
            who,
            body: Body::None,
            spends_token: false,
            idempotency_key: false,
        }
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    fn spends_token(mut self) -> Self {
        self.spends_token = true;
        self
    }

    fn idempotency_key(mut self) -> Self {
        self.idempotency_key = true;
        self
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} (who: {:?})", self.method, self.path, self.who)
    }
}

/// The logged-in callers and what the rows need.
struct Callers {
    customer_email: String,
    customer_token: String,
    admin_token: String,
}

impl Callers {
    async fn token(&self, mall: &Mall, caller: Caller, fresh: bool) -> Option<String> {
        match (caller, fresh) {
            (Caller::Anonymous, _) => None,
            (Caller::Customer, false) => Some(self.customer_token.clone()),
            (Caller::Admin, false) => Some(self.admin_token.clone()),
            (Caller::Customer, true) => {
                Some(mall.login(&self.customer_email, PASSWORD).await.access)
            }
            (Caller::Admin, true) => Some(mall.admin().await.access),
        }
    }
}

async fn call(mall: &Mall, callers: &Callers, row: &Row, caller: Caller) -> Reply {
    let mut request = mall.request(row.method.clone(), &row.path);
    if let Some(token) = callers.token(mall, caller, row.spends_token).await {
        request = request.bearer_auth(token);
    }
    if row.idempotency_key {
        request = request.header("Idempotency-Key", unique_tag());
    }
    request = match &row.body {
        Body::None => request,
        Body::Json(v) => request.json(v),
        Body::Registration => request.json(&json!({
            "email": unique_email(), "password": PASSWORD, "name": "Route Walker",
        })),
        Body::Login { email } => request.json(&json!({ "email": email, "password": PASSWORD })),
        Body::FreshRefreshToken { email } => {
            let refresh = mall.login(email, PASSWORD).await.refresh;
            request.json(&json!({ "refresh_token": refresh }))
        }
    };
    send(request).await
}

/// `Ok` when the auth layer let the request through and the route answered: not 401/403,
/// not a 5xx, and a success or the standard error body.
fn passed(reply: &Reply) -> Result<(), String> {
    if matches!(
        reply.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        return Err("refused, but this caller may use the route".to_owned());
    }
    if reply.status.is_server_error() {
        return Err("admitted, then a server error".to_owned());
    }
    if reply.status.is_success() {
        return Ok(());
    }
    match reply.error_shape_problem() {
        None => Ok(()),
        Some(problem) => Err(format!("error answer without the standard body: {problem}")),
    }
}

/// `Ok` when the auth layer refused as the contract says: 401 `unauthorized` with an
/// `invalid_token` challenge, or 403 `forbidden` with an `insufficient_scope` challenge.
fn refused(reply: &Reply, status: StatusCode) -> Result<(), String> {
    let (code, error) = if status == StatusCode::UNAUTHORIZED {
        ("unauthorized", "error=\"invalid_token\"")
    } else {
        ("forbidden", "error=\"insufficient_scope\"")
    };
    if reply.status != status {
        return Err(format!("expected {status}"));
    }
    if let Some(problem) = reply.error_shape_problem() {
        return Err(format!("not the standard error body: {problem}"));
    }
    if reply.body["error"]["code"] != code {
        return Err(format!("expected code {code}"));
    }
    let challenges: Vec<_> = reply.headers.get_all("www-authenticate").iter().collect();
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    if challenges.len() != 1
        || !challenge.starts_with("Bearer ")
        || !challenge.contains("realm=\"mall\"")
        || !challenge.contains(error)
    {
        return Err(format!(
            "expected one WWW-Authenticate: Bearer realm=\"mall\", {error}…; got {challenges:?}"
        ));
    }
    Ok(())
}

fn judge(row: &Row, caller: Caller, reply: &Reply) -> Result<(), String> {
    match (row.who, caller) {
        (Who::Anyone, _) | (Who::Customer, Caller::Customer | Caller::Admin) => passed(reply),
        (Who::Admin, Caller::Admin) => passed(reply),
        (Who::Customer | Who::Admin, Caller::Anonymous) => refused(reply, StatusCode::UNAUTHORIZED),
        (Who::Admin, Caller::Customer) => refused(reply, StatusCode::FORBIDDEN),
    }
}

#[tokio::test]
async fn every_route_admits_exactly_the_callers_its_who_column_names() {
    let mall = mall();
    let (customer, customer_tokens) = mall.customer().await;
    let admin = mall.admin().await;
    let bystander = mall.register().await;
    let category = format!("E2E-Routes-{}", unique_tag());
    let product = mall
        .create_product(&admin.access, &product_body("Route Lamp", &category, 1500))
        .await;
    let doomed = mall
        .create_product(&admin.access, &product_body("Route Vase", &category, 900))
        .await;
    let (pid, doomed_id, uid) = (product["id"].clone(), doomed["id"].clone(), bystander.id);
    let none = 2_000_000_000_u64; // an id no order or payment of this stack has
    let email = customer.email.clone();
    let callers = Callers {
        customer_email: customer.email,
        customer_token: customer_tokens.access,
        admin_token: admin.access.clone(),
    };
    use Who::{Admin, Anyone, Customer};
    let rows = vec![
        // users
        Row::new(Method::POST, "/api/users/register", Anyone).body(Body::Registration),
        Row::new(Method::POST, "/api/users/login", Anyone).body(Body::Login {
            email: email.clone(),
        }),
        Row::new(Method::POST, "/api/users/refresh", Anyone)
            .body(Body::FreshRefreshToken { email }),
        Row::new(Method::POST, "/api/users/logout", Customer).spends_token(),
        Row::new(Method::GET, "/api/users/me", Customer),
        Row::new(Method::GET, "/.well-known/jwks.json", Anyone),
        Row::new(Method::GET, "/api/admin/users?page=1&size=1", Admin),
        Row::new(Method::PUT, format!("/api/admin/users/{uid}/roles"), Admin)
            .json(json!({ "roles": ["customer"] })),
        Row::new(
            Method::POST,
            format!("/api/admin/users/{uid}/revoke-sessions"),
            Admin,
        ),
        // catalog
        Row::new(
            Method::GET,
            format!(
                "/api/products?q=lamp&category={category}&min_price=0&max_price=100000&sort=price_asc&page=1&size=5"
            ),
            Anyone,
        ),
        Row::new(Method::GET, format!("/api/products/{pid}"), Anyone),
        Row::new(Method::GET, "/api/categories", Anyone),
        Row::new(Method::POST, "/api/products", Admin)
            .json(product_body("Route Stool", &category, 4200)),
        Row::new(Method::PUT, format!("/api/products/{pid}"), Admin).json(json!({
            "name": "Route Lamp", "description": "still a lamp", "price": 1600,
            "category": category,
        })),
        Row::new(Method::PATCH, format!("/api/products/{pid}/stock"), Admin)
            .json(json!({ "delta": 1 })),
        Row::new(Method::DELETE, format!("/api/products/{doomed_id}"), Admin),
        // cart
        Row::new(Method::GET, "/api/cart", Customer),
        Row::new(Method::PUT, format!("/api/cart/items/{pid}"), Customer)
            .json(json!({ "quantity": 1 })),
        Row::new(Method::DELETE, format!("/api/cart/items/{pid}"), Customer),
        Row::new(Method::DELETE, "/api/cart", Customer),
        // orders and payments
        Row::new(Method::POST, "/api/orders", Customer)
            .json(json!({
                "items": [{ "product_id": pid, "quantity": 1 }],
                "payment": { "card_token": "tok_ok" },
            }))
            .idempotency_key(),
        Row::new(Method::GET, "/api/orders?page=1&size=1", Customer),
        Row::new(Method::GET, format!("/api/orders/{none}"), Customer),
        Row::new(Method::POST, format!("/api/orders/{none}/cancel"), Customer),
        Row::new(Method::GET, format!("/api/payments/{none}"), Customer),
        Row::new(Method::GET, "/api/admin/orders?status=paid&page=1&size=1", Admin),
        Row::new(Method::GET, "/api/admin/stats", Admin),
    ];
    let mut failures = Vec::new();

    for row in &rows {
        for caller in [Caller::Anonymous, Caller::Customer, Caller::Admin] {
            let reply = call(&mall, &callers, row, caller).await;
            if let Err(problem) = judge(row, caller, &reply) {
                failures.push(format!(
                    "{row} as {caller:?}: {problem}; got {} {}",
                    reply.status, reply.text
                ));
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {} route × caller checks failed:\n{}",
        failures.len(),
        rows.len() * 3,
        failures.join("\n")
    );
}
