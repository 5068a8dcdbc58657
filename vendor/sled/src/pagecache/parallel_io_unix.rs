use std::convert::TryFrom;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::LogOffset;

pub(crate) fn pread_exact_or_eof(
    file: &File,
    mut buf: &mut [u8],
    offset: LogOffset,
) -> io::Result<usize> {
    let mut total = 0_usize;
    while !buf.is_empty() {
        match file.read_at(buf, offset + u64::try_from(total).unwrap()) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                let tmp = buf;
                buf = &mut tmp[n..];
            }
            Err(ref e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

pub(crate) fn pread_exact(
    file: &File,
    buf: &mut [u8],
    offset: LogOffset,
) -> io::Result<()> {
    file.read_exact_at(buf, offset)
}

pub(crate) fn pwrite_all(
    file: &File,
    buf: &[u8],
    offset: LogOffset,
) -> io::Result<()> {
    file.write_all_at(buf, offset)
}

/// expo: a read-only, shared mapping of part of a file (see `SegmentBytes`).
pub(crate) struct Mapped {
    ptr: *const u8,
    len: usize,
}

impl Mapped {
    /// Maps `len` bytes of `file` from `offset` (a multiple of the page
    /// size), or `None` if the kernel refuses. The caller keeps `len`
    /// within the file's length: touching a mapped page past the end of the
    /// file would raise SIGBUS.
    #[allow(unsafe_code)]
    pub(crate) fn new(file: &File, offset: LogOffset, len: usize) -> Option<Mapped> {
        use std::os::unix::io::AsRawFd;
        if len == 0 {
            return None;
        }
        let offset = libc::off_t::try_from(offset).ok()?;
        // SAFETY: a fresh read-only mapping chosen by the kernel; it aliases
        // no Rust memory, and it is unmapped once, in `drop`.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            None
        } else {
            Some(Mapped { ptr: ptr as *const u8, len })
        }
    }

    #[allow(unsafe_code)]
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Mapped {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped only here.
        let _ = unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}
