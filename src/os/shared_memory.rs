//! Memory every process of a run shares: memory files, the process counter, regions and futexes.

use super::OsError;
use nix::errno::Errno;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// An anonymous in-memory file that every process of a run can append to
/// (they share its offset), read back whole by `read_memory_file`.
pub fn memory_file(name: &str) -> Result<OwnedFd, OsError> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(OsError::Call)?;
    fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_APPEND)).map_err(OsError::Call)?;
    Ok(fd)
}

/// Everything written to a memory file, from its start.
pub fn read_memory_file(fd: &OwnedFd) -> Result<Vec<u8>, OsError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match nix::sys::uio::pread(fd, &mut buf, out.len() as i64) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::Call(e)),
        }
    }
}

// ---------------------------------------------------------------- shared state

/// What every process of one script's tree shares: a page of shared memory
/// mapped by the root and inherited through every fork.
#[repr(C)]
struct SharedPage {
    live: AtomicUsize,
    limit_reported: AtomicUsize,
    /// Children forked whose --explain line of their birth is not written yet.
    births_untold: AtomicUsize,
}

/// The tree's count of live processes, and whether a child already reported
/// reaching the process limit (so a fork bomb reports it once, not per process).
pub struct SharedCounter {
    page: NonNull<SharedPage>,
    /// Whether `page` came from mmap (else from a Box, if mmap failed).
    mapped: bool,
    /// One bit per pid: set while that process holds a place in the count.
    /// Lets the root, reaping an orphan it adopted, tell a process of the
    /// script (counted) from a program's own child (never counted). None if
    /// it could not be mapped (then orphans give back no place).
    counted: Option<NonNull<AtomicU8>>,
}

/// Bytes of the counted-pid bitmap: one bit for every pid Linux can give
/// (pid_max is at most 2^22). Pages are only touched for pids in use.
const COUNTED_BYTES: usize = (1 << 22) / 8;

impl SharedCounter {
    /// Maps a fresh shared page; falls back to a private one if mmap fails.
    pub fn new(initial: usize) -> SharedCounter {
        use nix::sys::mman::{MapFlags, ProtFlags};
        use std::num::NonZeroUsize;
        let len = NonZeroUsize::new(std::mem::size_of::<SharedPage>()).expect("non-zero size");
        // SAFETY: an anonymous shared mapping of a fresh page; nothing else
        // aliases it, and it stays mapped until this counter is dropped.
        let mapped = unsafe {
            nix::sys::mman::mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        };
        let counter = match mapped {
            // The page is zeroed, page-aligned and large enough for SharedPage,
            // whose fields are atomics valid as all zeros.
            Ok(ptr) => SharedCounter {
                page: ptr.cast(),
                mapped: true,
                counted: map_counted(),
            },
            Err(_) => SharedCounter {
                page: NonNull::from(Box::leak(Box::new(SharedPage {
                    live: AtomicUsize::new(0),
                    limit_reported: AtomicUsize::new(0),
                    births_untold: AtomicUsize::new(0),
                }))),
                mapped: false,
                counted: None,
            },
        };
        counter.page().live.store(initial, Ordering::SeqCst);
        counter
    }

    fn page(&self) -> &SharedPage {
        // SAFETY: the page is valid from `new` until `drop`, and only read
        // through atomics.
        unsafe { self.page.as_ref() }
    }

    /// Takes one place if fewer than `max` are taken.
    pub fn try_acquire(&self, max: usize) -> bool {
        self.page()
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    pub fn release(&self) {
        let _ = self
            .page()
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_sub(1))
            });
    }

    /// A child is about to be forked that will tell of its birth (--explain).
    pub fn birth_coming(&self) {
        self.page().births_untold.fetch_add(1, Ordering::SeqCst);
    }

    /// A child told of its birth (or its fork failed).
    pub fn birth_told(&self) {
        let _ = self
            .page()
            .births_untold
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_sub(1))
            });
    }

    /// Children forked that have not told of their birth yet.
    pub fn births_untold(&self) -> usize {
        self.page().births_untold.load(Ordering::SeqCst)
    }

    /// Marks `pid` as holding a place (its parent took one for it).
    pub fn mark_counted(&self, pid: i32) {
        if let Some((byte, bit)) = self.counted_bit(pid) {
            byte.fetch_or(bit, Ordering::SeqCst);
        }
    }

    /// Whether `pid` held a place; clears the mark (the process is reaped).
    pub fn take_counted(&self, pid: i32) -> bool {
        self.counted_bit(pid)
            .is_some_and(|(byte, bit)| byte.fetch_and(!bit, Ordering::SeqCst) & bit != 0)
    }

    fn counted_bit(&self, pid: i32) -> Option<(&AtomicU8, u8)> {
        let base = self.counted?;
        let pid = usize::try_from(pid).ok()?;
        if pid / 8 >= COUNTED_BYTES {
            return None;
        }
        // SAFETY: the bitmap is COUNTED_BYTES long (checked above), mapped
        // from `new` until `drop`, and only used through atomics.
        let byte = unsafe { base.add(pid / 8).as_ref() };
        Some((byte, 1u8 << (pid % 8)))
    }

    /// True for the first caller in the whole tree, false for every later one.
    pub fn first_limit_report(&self) -> bool {
        self.page().limit_reported.swap(1, Ordering::SeqCst) == 0
    }
}

/// Maps the zeroed, shared counted-pid bitmap.
fn map_counted() -> Option<NonNull<AtomicU8>> {
    use nix::sys::mman::{MapFlags, ProtFlags};
    use std::num::NonZeroUsize;
    let len = NonZeroUsize::new(COUNTED_BYTES)?;
    // SAFETY: a fresh anonymous shared mapping that nothing else aliases; its
    // zeroed bytes are valid atomics; unmapped only in `drop`.
    let mapped = unsafe {
        nix::sys::mman::mmap_anonymous(
            None,
            len,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED | MapFlags::MAP_NORESERVE,
        )
    };
    mapped.ok().map(|ptr| ptr.cast())
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        if let Some(counted) = self.counted {
            // SAFETY: unmaps the bitmap mapped in `map_counted`; no reference
            // to it outlives the counter.
            let _ = unsafe { nix::sys::mman::munmap(counted.cast(), COUNTED_BYTES) };
        }
        if self.mapped {
            // SAFETY: unmaps the page mapped in `new`; no reference to it
            // outlives the counter (`page()` borrows from it).
            let _ = unsafe {
                nix::sys::mman::munmap(self.page.cast(), std::mem::size_of::<SharedPage>())
            };
        }
    }
}

/// A shared memory region backed by a memfd: inherited by fork, and passable
/// to other processes as a file descriptor. All access is bounds-checked.
pub struct SharedRegion {
    ptr: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

impl SharedRegion {
    /// A fresh zeroed region of `len` bytes (pages are only used once written).
    pub fn create(name: &str, len: usize) -> Result<SharedRegion, OsError> {
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(OsError::Call)?;
        nix::unistd::ftruncate(&fd, len as i64).map_err(OsError::Call)?;
        Self::map(fd, len)
    }

    /// Maps a region another process created and sent as a descriptor.
    pub fn open(fd: OwnedFd) -> Result<SharedRegion, OsError> {
        let stat = nix::sys::stat::fstat(&fd).map_err(OsError::Call)?;
        Self::map(fd, stat.st_size.max(0) as usize)
    }

    fn map(fd: OwnedFd, len: usize) -> Result<SharedRegion, OsError> {
        use nix::sys::mman::{MapFlags, ProtFlags};
        let size = std::num::NonZeroUsize::new(len).ok_or(OsError::EmptyRegion)?;
        // SAFETY: maps `len` bytes of a memfd we own, shared; the mapping lives
        // until Drop unmaps it, and all access goes through bounds checks below.
        let ptr = unsafe {
            nix::sys::mman::mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &fd,
                0,
            )
        }
        .map_err(OsError::Call)?;
        Ok(SharedRegion {
            ptr: ptr.cast(),
            len,
            fd,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.fd.as_raw_fd()
    }

    fn at<T>(&self, offset: usize) -> *const T {
        let size = std::mem::size_of::<T>();
        assert!(
            offset % std::mem::align_of::<T>() == 0 && offset + size <= self.len,
            "shared region access out of bounds"
        );
        // SAFETY: offset + size is within the mapping (checked above).
        unsafe { self.ptr.as_ptr().add(offset) as *const T }
    }

    pub fn u32_at(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: in bounds and aligned (checked by `at`); the mapping is
        // shared memory that other processes change, which atomics allow.
        unsafe { &*self.at::<AtomicU32>(offset) }
    }

    pub fn i32_at(&self, offset: usize) -> &AtomicI32 {
        // SAFETY: `at` checked that the AtomicI32 lies inside the mapping and is
        // aligned; other processes change it only through atomics too.
        unsafe { &*self.at::<AtomicI32>(offset) }
    }

    pub fn u64_at(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: `at` checked that the AtomicU64 lies inside the mapping and is
        // aligned; other processes change it only through atomics too.
        unsafe { &*self.at::<AtomicU64>(offset) }
    }

    /// Copies bytes in; the caller holds the region's lock for that range.
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        assert!(
            offset + bytes.len() <= self.len,
            "shared region write out of bounds"
        );
        // SAFETY: the destination range is inside the mapping (checked above)
        // and cannot overlap `bytes`, which lives in this process's own memory.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.ptr.as_ptr().add(offset),
                bytes.len(),
            )
        }
    }

    /// Copies bytes out; the caller holds the region's lock for that range.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        assert!(
            offset + buf.len() <= self.len,
            "shared region read out of bounds"
        );
        // SAFETY: the source range is inside the mapping (checked above) and
        // cannot overlap `buf`, which lives in this process's own memory.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                buf.as_mut_ptr(),
                buf.len(),
            )
        }
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`; nothing refers to
        // it after the region is dropped (references borrow from the region).
        let _ = unsafe { nix::sys::mman::munmap(self.ptr.cast(), self.len) };
    }
}

impl std::fmt::Debug for SharedRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedRegion({} bytes)", self.len)
    }
}

/// Whether this process may run on more than one processor: only then can a
/// short spin see a change another process makes meanwhile. Asked once.
pub fn several_processors() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
    // 0: not asked yet, 1: one processor, 2: several.
    static KNOWN: AtomicU8 = AtomicU8::new(0);
    match KNOWN.load(Relaxed) {
        0 => {
            let several = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
            KNOWN.store(if several { 2 } else { 1 }, Relaxed);
            several
        }
        known => known == 2,
    }
}

/// Sleeps while `word` still holds `expected`, at most `timeout_ms`; returns
/// at once when another process calls `futex_wake` on it, or on a signal.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout_ms: u32) {
    let timeout = nix::libc::timespec {
        tv_sec: (timeout_ms / 1000) as nix::libc::time_t,
        tv_nsec: ((timeout_ms % 1000) * 1_000_000) as nix::libc::c_long,
    };
    // SAFETY: FUTEX_WAIT on a valid, aligned u32 in shared memory, with a
    // valid timeout; it only reads the word and sleeps.
    unsafe {
        nix::libc::syscall(
            nix::libc::SYS_futex,
            word.as_ptr(),
            nix::libc::FUTEX_WAIT,
            expected,
            &timeout as *const nix::libc::timespec,
        );
    }
}

/// Wakes up to `count` processes sleeping in `futex_wait` on `word`.
pub fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: FUTEX_WAKE on a valid, aligned u32; it touches no memory.
    unsafe {
        nix::libc::syscall(
            nix::libc::SYS_futex,
            word.as_ptr(),
            nix::libc::FUTEX_WAKE,
            count,
        );
    }
}
