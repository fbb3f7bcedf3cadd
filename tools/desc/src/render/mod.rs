//! The generated files, each a pure function of the description returning its text.

pub mod cli_parts;
pub mod compose;
pub mod kubernetes;
pub mod nginx;
pub mod parts_stack;
pub mod policy;
pub mod service_routes;
pub mod upstreams;

/// The command that writes every generated file; their headers name it.
pub const GENERATOR: &str = "cargo run -p mall-desc -- generate";

/// A section heading: `# --- users -----…` filled with dashes to `width` columns.
pub(crate) fn heading(comment: &str, title: &str, width: usize) -> String {
    let start = format!("{comment}--- {title} ");
    let dashes = width.saturating_sub(start.len()).max(3);
    format!("{start}{}", "-".repeat(dashes))
}

/// `text` as comment lines of at most `width` columns (a longer word gets a line of its own).
pub(crate) fn comment_lines(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    if line.len() > 1 {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A TOML basic string, escaped as TOML wants.
pub(crate) fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_fills_to_the_width() {
        let h = heading("# ", "keys", 20);
        assert_eq!(h, "# --- keys ---------");
        assert_eq!(h.len(), 20);
    }

    #[test]
    fn comments_wrap_at_the_width() {
        let c = comment_lines("one two three four", 12);
        assert_eq!(c, "# one two\n# three four\n");
    }

    #[test]
    fn toml_strings_read_back_as_written() {
        assert_eq!(toml_str("/api/x"), "\"/api/x\"");
        for s in ["/api/x", "a\"b", "a'b\"c\\d"] {
            let doc: toml::Table =
                toml::from_str(&format!("x = {}", toml_str(s))).expect("reads back");
            assert_eq!(doc["x"].as_str(), Some(s));
        }
    }
}
