//! The command's allocator: the system's, except that running out of memory ends the process with a clear line and exit code 1 instead of an abort, and freed large blocks are kept for reuse.

use nix::libc;
use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, for the `procscript` command only (a library must
/// not choose how its embedder's process ends). An allocation the system
/// refuses (an address-space limit such as `ulimit -v`, or a full machine)
/// would abort with a backtrace; this one says so in one line and exits 1.
pub struct ExitOnOutOfMemory;

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees hold; a refusal never returns (the process exits).
unsafe impl GlobalAlloc for ExitOnOutOfMemory {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        checked(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on unchanged.
        checked(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on unchanged.
        checked(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}

/// Below this size an allocation comes from the heap, not from a fresh `mmap` of its own.
const HEAP_UP_TO: i32 = 32 * 1024 * 1024;

/// Freed memory at the heap's top is kept up to this much instead of being given back.
const KEEP_FREED: i32 = 64 * 1024 * 1024;

/// Tells glibc's malloc to keep and reuse freed large blocks, for the
/// `procscript` command only. By default a block of more than 128 KiB (or,
/// after glibc's own adjustment, a heap top freed past 128 KiB) goes back to
/// the system when freed, so every large message, capture or string made
/// again costs a page fault per 4 KiB: 100 messages of 1 MiB through a queue
/// spent more than half their time in page faults (perf). Kept blocks make
/// that run about 2.5 times faster; peak memory is the same, since what is
/// kept is what the script had in use a moment before.
pub fn keep_freed_memory() {
    // SAFETY: mallopt only sets two of malloc's tuning numbers; it is called
    // at the command's start, before any other thread exists.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, HEAP_UP_TO);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP_FREED);
    }
}

fn checked(ptr: *mut u8, bytes: usize) -> *mut u8 {
    if ptr.is_null() {
        out_of_memory(bytes);
    }
    ptr
}

/// Writes the line without allocating (there is no memory), then exits at
/// once: children end by their parent-death signal, as when a parent is killed.
fn out_of_memory(bytes: usize) -> ! {
    let mut line = [0u8; 200];
    let mut len = 0;
    let mut put = |text: &[u8]| {
        let n = text.len().min(line.len() - len);
        line[len..len + n].copy_from_slice(&text[..n]);
        len += n;
    };
    put(b"procscript: out of memory: an allocation of ");
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut left = bytes;
    loop {
        at -= 1;
        digits[at] = b'0' + (left % 10) as u8;
        left /= 10;
        if left == 0 {
            break;
        }
    }
    put(&digits[at..]);
    put(b" bytes was refused (a memory limit such as `ulimit -v`, or the machine is out of memory)\n");
    // SAFETY: write(2) of a buffer we own, then _exit(2): both are
    // async-signal-safe and allocate nothing.
    unsafe {
        libc::write(2, line.as_ptr().cast(), len);
        libc::_exit(1)
    }
}
