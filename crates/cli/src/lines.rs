//! An import file's JSON Lines: read on a thread of their own, parsed by whichever of two threads is free, handed out in order.
//!
//! An import has two kinds of work: reading and parsing lines, and storing
//! and folding the events. With one thread for each, the parsing thread was
//! the busier (on the 1M bench export about 1.7 s of parsing against 1.3 s
//! of storing), so the storing thread spent the difference waiting. Here the
//! file is read into chunks of whole lines; the reading thread parses them
//! in order, and the thread that takes the results, when the chunk it needs
//! next is not ready, parses the first chunk nobody has started instead of
//! waiting. Results still come out in line order, so the first bad line is
//! the one reported, and nothing after it is stored.

use crate::envelope::MAX_LINE_BYTES;
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Lines per chunk.
const CHUNK_LINES: usize = 1024;

/// Chunks read but not yet taken, at most: with ~330-byte lines, a few MB
/// of text and results.
const MAX_CHUNKS: usize = 8;

/// Chunks read ahead and not yet started, for the taking thread to find one
/// when it would otherwise wait.
const READ_AHEAD: usize = 2;

/// A line's number and what is wrong with it.
pub type BadLine = (u64, String);

/// Reads JSON Lines with a line-length limit, numbering lines from 1.
pub struct JsonLines<R> {
    reader: R,
    line: u64,
    /// A line that did not lie whole in the reader's buffer, copied out.
    buf: Vec<u8>,
    /// Bytes of the reader's buffer lent out as the last line, consumed
    /// when the next one is asked for.
    lent: usize,
}

impl<R: BufRead> JsonLines<R> {
    pub fn new(reader: R) -> Self {
        JsonLines {
            reader,
            line: 0,
            buf: Vec::new(),
            lent: 0,
        }
    }

    /// The next line's number and text; `Ok(None)` at the end.
    ///
    /// A line that lies whole in the reader's buffer (all but about one a
    /// megabyte) is lent from there instead of copied; each line used to be
    /// copied twice (out of the buffer, then into a `String` of its own).
    pub fn next_line(&mut self) -> Result<Option<(u64, &str)>, BadLine> {
        self.reader.consume(std::mem::take(&mut self.lent));
        self.buf.clear();
        self.line += 1;
        let n = self.line;
        let limit = MAX_LINE_BYTES as u64 + 2;
        let whole = {
            let available = self
                .reader
                .fill_buf()
                .map_err(|e| (n, format!("cannot read: {e}")))?;
            memchr::memchr(b'\n', available).filter(|&end| (end as u64) < limit)
        };
        let line: &[u8] = match whole {
            Some(end) => {
                self.lent = end + 1;
                // The buffer is not empty, so this returns it without reading.
                let available = self
                    .reader
                    .fill_buf()
                    .map_err(|e| (n, format!("cannot read: {e}")))?;
                &available[..end]
            }
            None => {
                let read = (&mut self.reader)
                    .take(limit)
                    .read_until(b'\n', &mut self.buf)
                    .map_err(|e| (n, format!("cannot read: {e}")))?;
                if read == 0 {
                    return Ok(None);
                }
                if self.buf.last() == Some(&b'\n') {
                    self.buf.pop();
                } else if read as u64 >= limit {
                    return Err((n, format!("line is longer than {MAX_LINE_BYTES} bytes")));
                }
                &self.buf
            }
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err((n, "empty line".to_owned()));
        }
        let text = std::str::from_utf8(line).map_err(|_| (n, "not valid UTF-8 text".to_owned()))?;
        Ok(Some((n, text)))
    }
}

/// Whole lines read from the file, not parsed yet.
struct Chunk {
    /// The number of the first line.
    first: u64,
    /// The lines, one after another.
    text: String,
    /// Where each line ends in `text`.
    ends: Vec<usize>,
    /// A line that could not be read, after the others: the reading ends there.
    unreadable: Option<BadLine>,
}

impl Chunk {
    /// Parses the lines in order, stopping at the first that does not parse.
    fn parse<T>(self, parse: fn(&str) -> Result<T, String>) -> Vec<Result<T, BadLine>> {
        let mut out = Vec::with_capacity(self.ends.len() + 1);
        let mut start = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            let parsed = parse(&self.text[start..end]).map_err(|p| (self.first + i as u64, p));
            let bad = parsed.is_err();
            out.push(parsed);
            if bad {
                return out;
            }
            start = end;
        }
        out.extend(self.unreadable.map(Err));
        out
    }

    fn bad(&self) -> bool {
        self.unreadable.is_some()
    }
}

enum Slot<T> {
    Read(Chunk),
    Parsing,
    Parsed(Vec<Result<T, BadLine>>),
}

struct Queue<T> {
    /// Chunks in file order; the first is chunk number `base`.
    slots: VecDeque<Slot<T>>,
    base: u64,
    /// No more chunks will come: the file ended, a line could not be read,
    /// or a line did not parse (nothing after it is needed).
    read_all: bool,
    /// The taking side is gone: the reading thread stops.
    stop: bool,
    /// The reading thread ended (normally or not): what it had started
    /// parsing and not finished never will be.
    reader_gone: bool,
}

impl<T> Queue<T> {
    /// The first chunk read and not started, claimed for parsing.
    fn claim(&mut self) -> Option<(u64, Chunk)> {
        let i = self.slots.iter().position(|s| matches!(s, Slot::Read(_)))?;
        let Slot::Read(chunk) = std::mem::replace(&mut self.slots[i], Slot::Parsing) else {
            unreachable!("the slot was just seen holding a chunk read");
        };
        Some((self.base + i as u64, chunk))
    }

    fn store(&mut self, seq: u64, parsed: Vec<Result<T, BadLine>>) {
        if parsed.last().is_some_and(Result::is_err) {
            self.read_all = true;
        }
        if let Some(i) = seq.checked_sub(self.base) {
            if let Some(slot) = self.slots.get_mut(i as usize) {
                *slot = Slot::Parsed(parsed);
            }
        }
    }

    fn unstarted(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Read(_)))
            .count()
    }
}

struct Shared<T> {
    queue: Mutex<Queue<T>>,
    changed: Condvar,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        // A thread that panicked holding the lock left the queue in a state
        // the other side can still read (every change is one assignment).
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, q: MutexGuard<'a, Queue<T>>) -> MutexGuard<'a, Queue<T>> {
        self.changed.wait(q).unwrap_or_else(|e| e.into_inner())
    }

    /// Claims the first chunk nobody has started, parses it without the
    /// lock and stores the results, waking the other side (its next chunk
    /// may be ready, or a bad line may have ended the reading). Returns the
    /// lock (taken again if it was let go) and whether there was a chunk.
    fn parse_first_unstarted<'a>(
        &'a self,
        mut q: MutexGuard<'a, Queue<T>>,
        parse: fn(&str) -> Result<T, String>,
    ) -> (MutexGuard<'a, Queue<T>>, bool) {
        let Some((seq, chunk)) = q.claim() else {
            return (q, false);
        };
        drop(q);
        let parsed = chunk.parse(parse);
        let mut q = self.lock();
        q.store(seq, parsed);
        self.changed.notify_all();
        (q, true)
    }
}

/// Tells the taking side, however the reading thread ends, that it has.
struct ReaderGone<'a, T>(&'a Shared<T>);

impl<T> Drop for ReaderGone<'_, T> {
    fn drop(&mut self) {
        self.0.lock().reader_gone = true;
        self.0.changed.notify_all();
    }
}

/// Reads `lines` on a new thread of `scope`, parses each with `parse` (on
/// that thread, or on the caller's while it waits), and yields the results
/// in line order, ending after the first error.
pub fn parse_on_two_threads<'scope, R, T>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    mut lines: JsonLines<R>,
    parse: fn(&str) -> Result<T, String>,
) -> InOrder<T>
where
    R: BufRead + Send + 'scope,
    T: Send + 'scope,
{
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            slots: VecDeque::new(),
            base: 0,
            read_all: false,
            stop: false,
            reader_gone: false,
        }),
        changed: Condvar::new(),
    });
    let reader = Arc::clone(&shared);
    scope.spawn(move || {
        let shared = &*reader;
        let _gone = ReaderGone(shared);
        let mut q = shared.lock();
        loop {
            if q.stop {
                return;
            }
            if !q.read_all && q.slots.len() < MAX_CHUNKS && q.unstarted() < READ_AHEAD {
                drop(q);
                let chunk = read_chunk(&mut lines);
                q = shared.lock();
                let last = chunk.as_ref().is_none_or(Chunk::bad);
                if let Some(chunk) = chunk {
                    q.slots.push_back(Slot::Read(chunk));
                }
                if last {
                    q.read_all = true;
                }
                shared.changed.notify_all();
            } else {
                let parsed;
                (q, parsed) = shared.parse_first_unstarted(q, parse);
                if !parsed {
                    if q.read_all {
                        return;
                    }
                    q = shared.wait(q);
                }
            }
        }
    });
    InOrder {
        shared,
        parse,
        current: Vec::new().into_iter(),
        taken: 0,
        done: false,
    }
}

/// The next chunk of lines; `None` at the end of the file.
fn read_chunk<R: BufRead>(lines: &mut JsonLines<R>) -> Option<Chunk> {
    let mut chunk = Chunk {
        first: lines.line + 1,
        text: String::with_capacity(CHUNK_LINES * 400),
        ends: Vec::with_capacity(CHUNK_LINES),
        unreadable: None,
    };
    while chunk.ends.len() < CHUNK_LINES {
        match lines.next_line() {
            Ok(Some((_, text))) => {
                chunk.text.push_str(text);
                chunk.ends.push(chunk.text.len());
            }
            Ok(None) => break,
            Err(bad) => {
                chunk.unreadable = Some(bad);
                break;
            }
        }
    }
    (!chunk.ends.is_empty() || chunk.bad()).then_some(chunk)
}

/// The parsed lines in order; see [`parse_on_two_threads`]. Dropping it
/// stops the reading thread.
pub struct InOrder<T> {
    shared: Arc<Shared<T>>,
    parse: fn(&str) -> Result<T, String>,
    current: std::vec::IntoIter<Result<T, BadLine>>,
    /// Lines handed out so far.
    taken: u64,
    done: bool,
}

impl<T> InOrder<T> {
    /// The next chunk's results: taken if parsed, else parsed here, the
    /// next chunk or a later one, while the reading thread finishes it.
    fn next_chunk(&mut self) -> Option<Vec<Result<T, BadLine>>> {
        let shared = &*self.shared;
        let mut q = shared.lock();
        loop {
            let (read_all, reader_gone) = (q.read_all, q.reader_gone);
            match q.slots.front() {
                Some(Slot::Parsed(_)) => {
                    let Some(Slot::Parsed(parsed)) = q.slots.pop_front() else {
                        unreachable!("the first slot was just seen parsed");
                    };
                    q.base += 1;
                    shared.changed.notify_all();
                    return Some(parsed);
                }
                None if read_all => return None,
                // The reading thread ended before the file did (it cannot
                // but by a panic): never take that for the file's end.
                None | Some(Slot::Parsing) if reader_gone => {
                    let line = self.taken + 1;
                    return Some(vec![Err((line, "the file's reading stopped".to_owned()))]);
                }
                _ => {}
            }
            let parsed;
            (q, parsed) = shared.parse_first_unstarted(q, self.parse);
            if !parsed {
                q = shared.wait(q);
            }
        }
    }
}

impl<T> Iterator for InOrder<T> {
    type Item = Result<T, BadLine>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.current.next() {
                self.taken += 1;
                if item.is_err() {
                    self.done = true;
                }
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.current = self.next_chunk()?.into_iter();
        }
    }
}

impl<T> Drop for InOrder<T> {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_on_two_threads, BadLine, JsonLines, CHUNK_LINES};
    use std::io::Cursor;

    fn number(line: &str) -> Result<u64, String> {
        line.trim()
            .parse()
            .map_err(|_| format!("{line:?} is not a number"))
    }

    /// Every result of `text`'s lines, with the taking side slowed down by
    /// `pause` every so often (so that the reading thread runs ahead) or not.
    fn all(text: impl Into<Vec<u8>>, pause: bool) -> Vec<Result<u64, BadLine>> {
        std::thread::scope(|s| {
            let lines = JsonLines::new(Cursor::new(text.into()));
            parse_on_two_threads(s, lines, number)
                .enumerate()
                .map(|(i, r)| {
                    if pause && i % 3000 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    r
                })
                .collect()
        })
    }

    fn numbers(n: u64) -> String {
        (1..=n).map(|i| format!("{i}\n")).collect()
    }

    /// Given many chunks' worth of lines, when they are parsed on two
    /// threads, then every line comes out once, in order, with or without
    /// the taking side falling behind.
    #[test]
    fn every_line_comes_out_once_in_order() {
        let n = (CHUNK_LINES * 20 + 7) as u64;
        for pause in [false, true] {
            let got = all(numbers(n), pause);
            let want: Vec<Result<u64, BadLine>> = (1..=n).map(Ok).collect();
            assert_eq!(got, want, "pause {pause}");
        }
        assert_eq!(all(String::new(), false), vec![]);
        assert_eq!(all("1\r\n2".to_owned(), false), vec![Ok(1), Ok(2)]);
    }

    /// Given a line that does not parse far into the file, when the lines
    /// are taken, then the results end with it, numbered, and nothing after.
    #[test]
    fn the_first_bad_line_ends_the_results() {
        let n = CHUNK_LINES * 12;
        for bad in [1, 2, CHUNK_LINES, CHUNK_LINES + 1, n - 1] {
            let text: String = (1..=n)
                .map(|i| {
                    if i == bad {
                        "x\n".to_owned()
                    } else {
                        format!("{i}\n")
                    }
                })
                .collect();
            let got = all(text, bad % 2 == 0);
            assert_eq!(got.len(), bad, "bad line {bad}");
            assert!(got[..bad - 1].iter().all(Result::is_ok));
            assert_eq!(
                got[bad - 1],
                Err((bad as u64, "\"x\" is not a number".to_owned()))
            );
        }
    }

    /// Given a line that cannot be read (empty, not UTF-8, too long), when
    /// the lines are taken, then the results end with it, numbered.
    #[test]
    fn a_line_that_cannot_be_read_ends_the_results() {
        let long = "9".repeat(crate::envelope::MAX_LINE_BYTES + 10);
        for (line, problem) in [
            (&b""[..], "empty line"),
            (&[0xFF, 0xFE][..], "not valid UTF-8 text"),
            (long.as_bytes(), "line is longer than"),
        ] {
            let mut text = numbers(CHUNK_LINES as u64 + 5).into_bytes();
            text.extend_from_slice(line);
            text.extend_from_slice(b"\n1\n2\n");
            let got = all(text, false);
            assert_eq!(got.len(), CHUNK_LINES + 6, "{problem}");
            let Some(Err((n, p))) = got.last() else {
                panic!("{problem}: the last result is not an error");
            };
            assert_eq!(*n, CHUNK_LINES as u64 + 6);
            assert!(p.starts_with(problem), "{p}");
        }
    }

    /// Given a long file, when the taking side stops after a few lines,
    /// then the reading thread ends too (the scope returns).
    #[test]
    fn taking_fewer_lines_stops_the_reading() {
        let text = numbers((CHUNK_LINES * 50) as u64);
        let taken = std::thread::scope(|s| {
            let lines = JsonLines::new(Cursor::new(text.into_bytes()));
            parse_on_two_threads(s, lines, number).take(10).count()
        });
        assert_eq!(taken, 10);
    }
}
