//! Progress lines on stderr: `[HH:MM:SS] message`, as the operator scripts print them.

fn now() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

pub fn log(message: &str) {
    eprintln!("[{}] {message}", now());
}

pub fn warn(message: &str) {
    eprintln!("[{}] warning: {message}", now());
}

pub fn error(message: &str) {
    eprintln!("[{}] error: {message}", now());
}

/// A clap error as one line: the text before its usage, without clap's `error: `.
pub fn usage_error(text: &str) -> String {
    let words: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    words.join(" ").trim_start_matches("error: ").to_owned()
}
