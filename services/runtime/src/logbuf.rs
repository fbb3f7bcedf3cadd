//! The log lines' way out: appended to a buffer in memory, written by a background thread
//! every `FLUSH_EVERY` in one `write(2)`. A request never waits for the disk, and a burst
//! of lines costs one system call.
//!
//! Why (`scripts/bench mix`, docs/performance.md): written straight to standard output,
//! every line was a `write(2)` on the request path, and while the kernel wrote dirty log
//! pages back such a write blocked for tens of milliseconds: p99 137 ms with info logs
//! against 38 ms with warn, every route alike. A per-line hand-off to a writer thread
//! (tracing-appender's non-blocking writer) fixed the stalls but woke that thread for every
//! line: +10-20 µs of CPU per request per service. A timed flush needs neither.
//!
//! Nothing is dropped: when the buffer reaches `MAX_BUFFER`, the logging call writes it out
//! itself (the request waits, as it did before). Order is kept: whoever writes takes the
//! buffer while holding the output. A process killed with SIGKILL loses at most the last
//! `FLUSH_EVERY` of lines; [`BatchWriter::shutdown`] writes everything out.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in memory.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A logging call that finds this much waiting writes it out itself.
pub const MAX_BUFFER: usize = 4 << 20;

struct Inner<O> {
    buffer: Mutex<Vec<u8>>,
    out: Mutex<O>,
    stop: AtomicBool,
}

impl<O: Write> Inner<O> {
    /// Writes out what is buffered (plus `extra`), in order.
    fn flush(&self, extra: &[u8]) {
        let Ok(mut out) = self.out.lock() else { return };
        let pending = match self.buffer.lock() {
            Ok(mut b) => std::mem::take(&mut *b),
            Err(_) => return,
        };
        // A failed write (disk full, closed descriptor) loses lines but must not take the
        // service down: there is nowhere left to report it.
        if !pending.is_empty() {
            let _ = out.write_all(&pending);
        }
        if !extra.is_empty() {
            let _ = out.write_all(extra);
        }
        let _ = out.flush();
    }
}

/// A cheap handle: clone it into the log layer.
pub struct BatchWriter<O: Write + Send + 'static> {
    inner: Arc<Inner<O>>,
    thread: Option<JoinHandle<()>>,
}

/// The `io::Write` one log line goes through.
pub struct Line<'a, O: Write + Send + 'static> {
    inner: &'a Inner<O>,
}

impl<O: Write + Send + 'static> BatchWriter<O> {
    /// Starts the flushing thread over `out`.
    pub fn start(out: O) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            buffer: Mutex::new(Vec::with_capacity(64 * 1024)),
            out: Mutex::new(out),
            stop: AtomicBool::new(false),
        });
        let worker = inner.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || {
                while !worker.stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_EVERY);
                    worker.flush(&[]);
                }
            })?;
        Ok(Self {
            inner,
            thread: Some(thread),
        })
    }

    /// A writer for the log layer (shares this buffer).
    pub fn handle(&self) -> Handle<O> {
        Handle {
            inner: self.inner.clone(),
        }
    }

    /// Writes everything out and stops the thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.inner.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        self.inner.flush(&[]);
    }
}

impl<O: Write + Send + 'static> Drop for BatchWriter<O> {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the log layer holds: appends lines to the shared buffer.
pub struct Handle<O: Write + Send + 'static> {
    inner: Arc<Inner<O>>,
}

impl<O: Write + Send + 'static> Clone for Handle<O> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, O: Write + Send + 'static> tracing_subscriber::fmt::MakeWriter<'a> for Handle<O> {
    type Writer = Line<'a, O>;

    fn make_writer(&'a self) -> Self::Writer {
        Line { inner: &self.inner }
    }
}

impl<O: Write + Send + 'static> Write for Line<'_, O> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let full = match self.inner.buffer.lock() {
            Ok(mut b) if b.len() + bytes.len() <= MAX_BUFFER => {
                b.extend_from_slice(bytes);
                false
            }
            _ => true,
        };
        if full {
            self.inner.flush(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let mut s = self.0.lock().expect("sink");
            s.0.extend_from_slice(b);
            s.1 += 1;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn written(s: &Sink) -> (String, usize) {
        let g = s.0.lock().expect("sink");
        (String::from_utf8_lossy(&g.0).into_owned(), g.1)
    }

    #[test]
    fn lines_arrive_in_order_in_batches_within_the_interval() {
        let sink = Sink::default();
        let w = BatchWriter::start(sink.clone()).expect("starts");
        let h = w.handle();
        for i in 0..1000 {
            h.make_writer()
                .write_all(format!("line {i}\n").as_bytes())
                .expect("write");
        }
        std::thread::sleep(FLUSH_EVERY * 5);
        let (text, writes) = written(&sink);
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected, "every line, in order, without shutdown");
        assert!(writes < 100, "batched: {writes} writes for 1000 lines");
        w.shutdown();
    }

    #[test]
    fn shutdown_writes_everything_and_a_full_buffer_is_written_at_once() {
        let sink = Sink::default();
        let w = BatchWriter::start(sink.clone()).expect("starts");
        let h = w.handle();
        let big = vec![b'x'; MAX_BUFFER];
        h.make_writer().write_all(b"first\n").expect("write");
        h.make_writer().write_all(&big).expect("write");
        // The big write did not fit: it and what was waiting are out already, in order.
        let (text, _) = written(&sink);
        assert!(text.starts_with("first\nxxx"), "{}", &text[..20]);
        assert_eq!(text.len(), 6 + MAX_BUFFER);
        h.make_writer().write_all(b"last\n").expect("write");
        w.shutdown();
        let (text, _) = written(&sink);
        assert_eq!(text.len(), 6 + MAX_BUFFER + 5);
        assert!(text.ends_with("xxlast\n"), "shutdown wrote the last line");
    }
}
