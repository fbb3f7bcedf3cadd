//! Finding the lines that contain the trace id, fast: big reads, a SIMD substring search
//! over whole buffers (`memchr::memmem`), and line boundaries looked up only around a hit,
//! so the cost is one pass over the bytes. Large files are cut into line-aligned ranges
//! scanned by several threads.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use memchr::memmem::Finder;

const BUF: usize = 4 << 20;
/// Files above this are split into ranges of about this size.
const RANGE: u64 = 64 << 20;

/// Appends to `out` every line of `reader` that contains the needle (without its `\n`).
pub fn scan_reader<R: Read>(
    mut reader: R,
    finder: &Finder<'_>,
    out: &mut Vec<Vec<u8>>,
) -> io::Result<u64> {
    let mut buf = vec![0u8; BUF];
    let mut filled = 0;
    let mut total = 0u64;
    loop {
        if filled == buf.len() {
            // A line longer than the buffer: grow until it fits.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        filled += n;
        if n == 0 {
            // The last line may lack its newline.
            hits(&buf[..filled], finder, out);
            return Ok(total);
        }
        let Some(last_nl) = memchr::memrchr(b'\n', &buf[..filled]) else {
            continue;
        };
        hits(&buf[..=last_nl], finder, out);
        buf.copy_within(last_nl + 1..filled, 0);
        filled -= last_nl + 1;
    }
}

/// The whole lines of `data` (which holds whole lines only) that contain the needle.
fn hits(data: &[u8], finder: &Finder<'_>, out: &mut Vec<Vec<u8>>) {
    let mut pos = 0;
    while let Some(i) = finder.find(&data[pos..]) {
        let at = pos + i;
        let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |p| p + 1);
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |p| at + p);
        let line = &data[start..end];
        out.push(line.strip_suffix(b"\r").unwrap_or(line).to_vec());
        if end >= data.len() {
            break;
        }
        pos = end + 1;
    }
}

/// A piece's matching lines and the bytes it read.
type PieceResult = io::Result<(Vec<Vec<u8>>, u64)>;

/// One piece of work: a line-aligned byte range of a file.
struct Piece {
    file: usize,
    start: u64,
    end: u64,
}

/// What a file search found: matching lines in file order, bytes read, unreadable files.
#[derive(Default)]
pub struct Found {
    pub lines: Vec<Vec<u8>>,
    pub bytes: u64,
    pub errors: Vec<String>,
}

/// Scans `files` with up to `threads` threads; lines come back in file order, then
/// position, whatever thread found them.
pub fn scan_files(files: &[PathBuf], needle: &[u8], threads: usize) -> Found {
    let mut found = Found::default();
    let mut pieces = Vec::new();
    for (i, path) in files.iter().enumerate() {
        match split(path) {
            Ok(ranges) => pieces.extend(ranges.into_iter().map(|(start, end)| Piece {
                file: i,
                start,
                end,
            })),
            Err(e) => found.errors.push(format!("{}: {e}", path.display())),
        }
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, PieceResult)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, pieces.len().max(1)) {
            scope.spawn(|| {
                let finder = Finder::new(needle);
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(piece) = pieces.get(k) else { break };
                    let result = scan_piece(&files[piece.file], piece, &finder);
                    if let Ok(mut r) = results.lock() {
                        r.push((k, result));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(k, _)| *k);
    for (k, result) in results {
        match result {
            Ok((lines, bytes)) => {
                found.lines.extend(lines);
                found.bytes += bytes;
            }
            Err(e) => found
                .errors
                .push(format!("{}: {e}", files[pieces[k].file].display())),
        }
    }
    found
}

fn scan_piece(path: &Path, piece: &Piece, finder: &Finder<'_>) -> PieceResult {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(piece.start))?;
    let mut lines = Vec::new();
    let bytes = scan_reader(file.take(piece.end - piece.start), finder, &mut lines)?;
    Ok((lines, bytes))
}

/// The file cut into ranges of about [`RANGE`] bytes, each starting at a line start.
fn split(path: &Path) -> io::Result<Vec<(u64, u64)>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut cuts = vec![0];
    let mut at = RANGE;
    while at < len {
        let cut = line_start_at_or_after(&mut file, at, len)?;
        if cut >= len {
            break;
        }
        if cut > *cuts.last().unwrap_or(&0) {
            cuts.push(cut);
        }
        at = cut + RANGE;
    }
    cuts.push(len);
    Ok(cuts.windows(2).map(|w| (w[0], w[1])).collect())
}

/// The first position ≥ `at` that starts a line (just after a `\n`), or `len`.
fn line_start_at_or_after(file: &mut File, at: u64, len: u64) -> io::Result<u64> {
    let mut pos = at - 1;
    file.seek(SeekFrom::Start(pos))?;
    let mut buf = [0u8; 64 << 10];
    while pos < len {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn lines_of(data: &[u8], needle: &str) -> Vec<String> {
        let finder = Finder::new(needle.as_bytes());
        let mut out = Vec::new();
        scan_reader(data, &finder, &mut out).expect("scan");
        out.into_iter()
            .map(|l| String::from_utf8(l).expect("utf8"))
            .collect()
    }

    #[test]
    fn finds_whole_lines_once_each() {
        let data = b"a x1 b x1\nnone\nx1 at start\nlast x1";
        assert_eq!(
            lines_of(data, "x1"),
            ["a x1 b x1", "x1 at start", "last x1"]
        );
        assert!(lines_of(b"", "x1").is_empty());
        assert_eq!(lines_of(b"crlf x1\r\n", "x1"), ["crlf x1"]);
    }

    #[test]
    fn lines_longer_than_the_buffer_are_whole() {
        let long = format!("{}x1{}", "a".repeat(BUF), "b".repeat(BUF));
        let data = format!("short\n{long}\nend x1\n");
        let found = lines_of(data.as_bytes(), "x1");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].len(), long.len());
    }

    #[test]
    fn ranges_of_a_big_file_cover_every_line_once() {
        let dir = std::env::temp_dir().join(format!("mall-trace-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("big.log");
        let mut f = File::create(&path).expect("create");
        let mut expected = 0;
        let mut n = 0u64;
        let mut written = 0u64;
        while written < 2 * RANGE + 12_345 {
            let line = if n % 1000 == 7 {
                expected += 1;
                format!("{{\"n\":{n},\"trace_id\":\"needle\"}}\n")
            } else {
                format!(
                    "{{\"n\":{n},\"trace_id\":\"other\",\"pad\":\"{}\"}}\n",
                    "p".repeat((n % 300) as usize)
                )
            };
            f.write_all(line.as_bytes()).expect("write");
            written += line.len() as u64;
            n += 1;
        }
        drop(f);
        assert!(split(&path).expect("split").len() >= 3);
        let found = scan_files(std::slice::from_ref(&path), b"needle", 3);
        std::fs::remove_dir_all(&dir).ok();
        assert!(found.errors.is_empty());
        assert_eq!(found.bytes, written);
        assert_eq!(found.lines.len(), expected);
        let ns: Vec<u64> = found
            .lines
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_slice(l).expect("json");
                v["n"].as_u64().expect("n")
            })
            .collect();
        assert!(ns.windows(2).all(|w| w[0] < w[1]), "in file order");
    }
}
