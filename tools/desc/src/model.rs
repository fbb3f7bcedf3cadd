//! The description's types, as mall.toml spells them (its comments say what each field
//! means). Unknown fields are refused, so a typo is an error rather than a silent default.

use serde::Deserialize;

/// The whole description: mall.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mall {
    #[serde(rename = "part")]
    pub parts: Vec<Part>,
    pub compose: Compose,
    #[serde(rename = "route", default)]
    pub routes: Vec<Route>,
    #[serde(rename = "location", default)]
    pub locations: Vec<Location>,
}

/// One process kind of the mall (a service, the auth sidecar, a stand-in).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub name: String,
    pub kind: PartKind,
    pub binary: String,
    pub port_offset: u16,
    pub slots: bool,
    #[serde(default)]
    pub required: bool,
    pub database: Option<Database>,
    pub health: String,
    pub ready: String,
    /// The parts it calls (each another part with slots): it reaches each one's
    /// live slot directly, by the switch's marker (docs/runtime.md "Internal calls"),
    /// through `<CALLEE>_URL` and `SLOT_MARKERS`.
    #[serde(default)]
    pub calls: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    /// Started with every stack, not chosen by MALL_SERVICES (auth-proxy).
    Sidecar,
    Service,
    /// An outside system simulated (the card gateway).
    StandIn,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub name: String,
    pub user: String,
}

/// What compose's generated files need to know about the containers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    pub container_port: u16,
    pub resolver: String,
    pub markers: String,
}

/// One public route: methods on a path pattern, its access and the service that owns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub section: String,
    pub service: String,
    pub methods: Vec<String>,
    pub path: String,
    pub access: Access,
}

/// Who may call a route (auth-proxy's policy semantics).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Access {
    Keyword(AccessKeyword),
    Roles(Roles),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKeyword {
    Public,
    Authenticated,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub roles: Vec<String>,
}

/// One nginx location: where a request goes, on which listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub listener: Listener,
    pub section: Option<String>,
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub service: Option<String>,
    pub status: Option<u16>,
    pub auth: Option<bool>,
    pub methods: Option<Vec<String>>,
    #[serde(default)]
    pub template: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Listener {
    Public,
    Internal,
}

/// How a location matches: nginx's `=` or `^~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Match<'a> {
    Exact(&'a str),
    Prefix(&'a str),
}

// === impl Part ===

impl Part {
    /// The name nginx and bash use for the part in identifiers (`auth-proxy` → `auth_proxy`).
    pub fn ident(&self) -> String {
        self.name.replace('-', "_")
    }
}

// === impl Location ===

impl Location {
    /// The match, when exactly one of `exact` and `prefix` is given (validation checks it).
    pub fn matcher(&self) -> Option<Match<'_>> {
        match (&self.exact, &self.prefix) {
            (Some(p), None) => Some(Match::Exact(p)),
            (None, Some(p)) => Some(Match::Prefix(p)),
            _ => None,
        }
    }

    /// Whether nginx asks auth-proxy first (snippets/api.conf) or not (snippets/proxy.conf).
    pub fn asks_auth(&self) -> bool {
        self.auth.unwrap_or(self.listener == Listener::Public)
    }
}

// === impl Match ===

impl<'a> Match<'a> {
    pub fn path(&self) -> &'a str {
        match *self {
            Match::Exact(p) | Match::Prefix(p) => p,
        }
    }

    /// nginx's modifier: `=` or `^~`.
    pub fn modifier(&self) -> &'static str {
        match self {
            Match::Exact(_) => "=",
            Match::Prefix(_) => "^~",
        }
    }
}

impl Mall {
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// The parts nginx proxies to: each has an upstream per slot.
    pub fn slot_parts(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(|p| p.slots)
    }

    /// The location nginx picks for `path` on `listener`: an exact match, else the longest
    /// `^~` prefix (the only two kinds the description uses, so no regex step).
    pub fn route_location(&self, listener: Listener, path: &str) -> Option<&Location> {
        let on = || {
            self.locations
                .iter()
                .filter(move |l| l.listener == listener)
        };
        on().find(|l| l.matcher() == Some(Match::Exact(path)))
            .or_else(|| {
                on().filter_map(|l| match l.matcher() {
                    Some(Match::Prefix(p)) if path.starts_with(p) => Some((p.len(), l)),
                    _ => None,
                })
                .max_by_key(|(len, _)| *len)
                .map(|(_, l)| l)
            })
    }
}
