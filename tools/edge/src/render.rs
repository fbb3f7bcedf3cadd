//! The pure half: the release's nginx.conf from the template, the version's check, which
//! old releases go, and whether an upstream file is of the older format.

/// The variables the template may use (nginx's own `$variables` stay as they are).
pub const VARS: [&str; 11] = [
    "MALL_NGINX_USER",
    "MALL_NGINX_PID",
    "MALL_NGINX_LOG_DIR",
    "MALL_NGINX_TEMP_DIR",
    "MALL_NGINX_LISTEN",
    "MALL_NGINX_INTERNAL_LISTEN",
    "MALL_WEB_ROOT",
    "MALL_LOGIN_RATE",
    "MALL_LOGIN_BURST",
    "MALL_TRUSTED_PROXY_CIDR",
    "MALL_NGINX_ERROR_LOG",
];

/// `envsubst` limited to [`VARS`]: `${NAME}` and `$NAME` of those names become their value
/// (empty when unset); every other `$` is left as it is.
pub fn substitute(template: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        if len > 0 && VARS.contains(&name) {
            out.push_str(&value(name).unwrap_or_default());
            rest = &after[len..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A release name: a plain version label (`[A-Za-z0-9._+-]`, not empty).
pub fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
}

/// The releases to delete: all but the three newest (`releases` newest first), never
/// `keep` (the one just installed).
pub fn pruned<'a>(releases: &[&'a str], keep: &str) -> Vec<&'a str> {
    releases
        .iter()
        .skip(3)
        .filter(|r| **r != keep)
        .copied()
        .collect()
}

/// An upstream file of the older format (one file per part naming the live slot) that
/// names the green slot: its part's marker must be written.
pub fn old_format_green(text: &str) -> bool {
    let upstream = text.lines().any(|l| {
        l.strip_prefix("upstream ")
            .and_then(|r| r.strip_suffix(" {"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
    });
    let green = text.lines().any(|l| {
        l.find("server ").is_some_and(|i| {
            let host = &l[i + 7..];
            host.split_once("-green:")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        })
    });
    upstream && green
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_variables_are_substituted() {
        let value = |k: &str| (k == "MALL_NGINX_LISTEN").then(|| "8080".to_string());
        let text = "listen ${MALL_NGINX_LISTEN}; x $MALL_NGINX_LISTEN; $host ${host} $MALL_OTHER ${MALL_WEB_ROOT}/ $ end$";
        assert_eq!(
            substitute(text, &value),
            "listen 8080; x 8080; $host ${host} $MALL_OTHER / $ end$"
        );
        assert_eq!(substitute("${MALL_NGINX_PID", &value), "${MALL_NGINX_PID");
    }

    #[test]
    fn versions_are_plain_labels() {
        for ok in ["dev", "1.4.2", "a1b2c3", "v2+build_7-rc"] {
            assert!(valid_version(ok), "{ok}");
        }
        for bad in ["", "a/b", "..x y", "$(x)", "v1;rm"] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn the_three_newest_releases_stay_and_the_installed_one_always() {
        assert_eq!(pruned(&["e", "d", "c", "b", "a"], "e"), ["b", "a"]);
        assert_eq!(pruned(&["e", "d", "c", "b", "a"], "a"), ["b"]);
        assert!(pruned(&["b", "a"], "a").is_empty());
    }

    #[test]
    fn an_older_upstream_file_naming_green_is_recognised() {
        let old = "upstream cart {\n    server cart-green:8080;\n}\n";
        assert!(old_format_green(old));
        assert!(!old_format_green(
            "upstream cart {\n    server cart-blue:8080;\n}\n"
        ));
        let current = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../nginx/upstreams/cart.conf"
        ))
        .unwrap();
        assert!(
            !old_format_green(&current),
            "today's files name both slots by upstream"
        );
    }
}
