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
