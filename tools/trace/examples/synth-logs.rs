//! Writes a directory of mall-like logs for the trace lookup benchmark
//! (docs/performance.md "Trace lookup"):
//!
//! ```sh
//! cargo run --release -p mall-trace --example synth-logs -- /tmp/mall-logs 1024
//! ```
//!
//! About `<MB>` megabytes of JSON lines shaped like the real ones (nginx access lines,
//! auth-proxy decisions, services' request lines and events, checkouts across order,
//! product, payment and the gateway), one trace id per request, spread over the files of
//! a local stack (`var/log/` layout). Each file's first half goes to a rotated `<name>.1`
//! dated two hours back (its lines from three hours back), so `--since 1h` can skip them;
//! the current files start 50 minutes back with one checkout whose trace id is printed at
//! the end: the needle.

use std::fs::{self, File, FileTimes};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn trace(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }
}

const PARTS: [&str; 8] = [
    "nginx/access",
    "auth-proxy-blue",
    "user-blue",
    "product-blue",
    "cart-blue",
    "order-blue",
    "payment-blue",
    "gateway-sim",
];

struct Out {
    files: Vec<BufWriter<File>>,
    written: u64,
}

impl Out {
    fn line(&mut self, part: usize, text: &str) {
        let f = &mut self.files[part];
        let _ = f.write_all(text.as_bytes());
        let _ = f.write_all(b"\n");
        self.written += text.len() as u64 + 1;
    }
}

fn ts(us: u64) -> String {
    let secs = (us / 1_000_000) as i64;
    let t = chrono::DateTime::from_timestamp(secs, ((us % 1_000_000) * 1000) as u32)
        .unwrap_or_default();
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn nginx(out: &mut Out, t: u64, id: &str, request: &str, status: u16, ms: u64, to: &str) {
    let (method, uri) = request.split_once(' ').unwrap_or(("GET", request));
    let millis = ts(t);
    let millis = format!("{}Z", &millis[..23]);
    out.line(0, &format!(
        r#"{{"ts":"{millis}","level":"info","service":"nginx","msg":"request","trace_id":"{id}","method":"{method}","uri":"{uri}","status":{status},"upstream_addr":"127.0.0.1:8103","upstream_status":"{status}","request_time":{:.3},"upstream_response_time":"{:.3}","bytes":512,"user_id":"42","served_by":"{to}-blue@0.1.0","remote_addr":"203.0.113.7","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"}}"#,
        ms as f64 / 1000.0,
        ms as f64 / 1000.0
    ));
}

fn service(out: &mut Out, part: usize, t: u64, id: &str, msg: &str, extra: &str) {
    let name = PARTS[part].trim_end_matches("-blue");
    out.line(part, &format!(
        r#"{{"ts":"{}","level":"INFO","service":"{name}","color":"blue","version":"0.1.0","trace_id":"{id}","msg":"{msg}","target":"{}_service::routes","method":"GET","route":"/api/x/{{id}}","user_id":42{extra}}}"#,
        ts(t),
        name.replace('-', "_")
    ));
}

/// One request of a made-up shopper mix; checkouts touch every part.
fn request(out: &mut Out, rng: &mut Rng, t: u64, id: &str, checkout: bool) {
    let auth = format!(
        r#","result":"allow","reason":"token","latency_us":{}"#,
        20 + rng.below(200)
    );
    service(out, 1, t + 100, id, "auth decision", &auth);
    if checkout {
        service(
            out,
            5,
            t + 900,
            id,
            "order created",
            r#","order_id":981,"items":2"#,
        );
        nginx(
            out,
            t + 4_000,
            id,
            "POST /internal/reservations",
            200,
            3,
            "product",
        );
        service(
            out,
            3,
            t + 3_900,
            id,
            "request completed",
            r#","status":200,"latency_ms":2.9"#,
        );
        service(
            out,
            7,
            t + 6_000,
            id,
            "request completed",
            r#","status":200,"latency_ms":0.4"#,
        );
        service(
            out,
            6,
            t + 6_500,
            id,
            "payment settled",
            r#","order_id":981,"payment_id":77"#,
        );
        service(
            out,
            6,
            t + 7_000,
            id,
            "request completed",
            r#","status":200,"latency_ms":2.8"#,
        );
        nginx(
            out,
            t + 7_100,
            id,
            "POST /internal/payments",
            200,
            3,
            "payment",
        );
        service(
            out,
            4,
            t + 8_000,
            id,
            "request completed",
            r#","status":204,"latency_ms":0.8"#,
        );
        service(
            out,
            5,
            t + 9_000,
            id,
            "request completed",
            r#","status":201,"latency_ms":8.2"#,
        );
        nginx(out, t + 9_100, id, "POST /api/orders", 201, 9, "order");
        return;
    }
    let (part, uri, to) = match rng.below(10) {
        0..=5 => (3, "/api/products?page=2&size=20&sort=price_asc", "product"),
        6 | 7 => (4, "/api/cart", "cart"),
        _ => (2, "/api/users/me", "user"),
    };
    if rng.below(4) == 0 {
        service(
            out,
            part,
            t + 700,
            id,
            "cache miss; read from MySQL",
            r#","key":"products:list:2:20""#,
        );
    }
    let lat = 1 + rng.below(20);
    service(
        out,
        part,
        t + lat * 1000,
        id,
        "request completed",
        &format!(r#","status":200,"latency_ms":{lat}.3"#),
    );
    nginx(
        out,
        t + lat * 1000 + 200,
        id,
        &format!("GET {uri}"),
        200,
        lat,
        to,
    );
}

fn open_all(dir: &Path, suffix: &str) -> std::io::Result<Vec<BufWriter<File>>> {
    PARTS
        .iter()
        .map(|p| {
            let path = dir.join(format!("{p}.log{suffix}"));
            Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
        })
        .collect()
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/mall-logs".into()));
    let mb: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let target = mb * 1_000_000;
    fs::create_dir_all(dir.join("nginx"))?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Out {
        files: open_all(&dir, ".1")?,
        written: 0,
    };
    let now_us = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    // The rotated half starts three hours back; the current half 50 minutes back.
    let mut t: u64 = now_us - 3 * 3_600_000_000;
    let mut needle = String::new();
    let mut rotated = false;
    while out.written < target {
        if !rotated && out.written >= target / 2 {
            for f in &mut out.files {
                let _ = f.flush();
            }
            out.files = open_all(&dir, "")?;
            rotated = true;
            t = now_us - 50 * 60_000_000;
            needle = rng.trace();
            request(&mut out, &mut rng, t, &needle, true);
        }
        let id = rng.trace();
        let checkout = rng.below(50) == 0;
        request(&mut out, &mut rng, t, &id, checkout);
        t += 300 + rng.below(3000);
    }
    for f in &mut out.files {
        let _ = f.flush();
    }
    // The rotated halves were last written two hours ago.
    let old = SystemTime::now() - Duration::from_secs(7200);
    for p in PARTS {
        if let Ok(f) = File::options()
            .write(true)
            .open(dir.join(format!("{p}.log.1")))
        {
            let _ = f.set_times(FileTimes::new().set_modified(old).set_accessed(old));
        }
    }
    println!("{needle}");
    eprintln!(
        "wrote {:.2} GB to {}",
        out.written as f64 / 1e9,
        dir.display()
    );
    Ok(())
}
