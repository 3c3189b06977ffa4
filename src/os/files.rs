//! Files and folders for the script's file builtins, with errors worded for people.

use super::signals::pending_stop;
use super::OsError;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::stat::{Mode, SFlag};
use std::os::fd::OwnedFd;

/// The words for a file call's errno, as people think of files and folders.
pub(super) fn describe(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => "no such file or folder",
        Errno::EACCES | Errno::EPERM => "permission denied",
        Errno::EEXIST => "it already exists",
        Errno::ENOTDIR => "a part of the path is a file, not a folder",
        Errno::EISDIR => "it is a folder, not a file",
        Errno::ENOTEMPTY => "the folder is not empty",
        Errno::ENOSPC => "no space left on the device",
        Errno::EROFS => "the file system is read-only",
        Errno::ENAMETOOLONG => "the path is too long",
        errno => errno.desc(),
    }
}

/// Keeps std's error as its errno; the few std makes up itself (a path with
/// a NUL byte, copying a folder) have none and keep std's words.
fn io_error(e: std::io::Error) -> OsError {
    match e.raw_os_error() {
        Some(raw) => OsError::File(Errno::from_raw(raw)),
        None => OsError::NoErrno(e.to_string()),
    }
}

/// Reads a whole file. A stop request (SIGINT, SIGTERM, --timeout) ends an
/// open or a read that blocks (a FIFO with no writer) with EINTR, which
/// std's own open and read would retry forever.
pub fn read_file(path: &str) -> Result<Vec<u8>, OsError> {
    read_file_at_most(path, usize::MAX)
}

/// A file's bytes, but no more than `max + 1` of them: one more than the
/// caller accepts says the file is too large, without reading (or
/// allocating) the rest of it. Stoppable as `read_file` is.
pub fn read_file_at_most(path: &str, max: usize) -> Result<Vec<u8>, OsError> {
    read_opened_at_most(open_to_read(path, OFlag::empty())?, max)
}

/// As [`read_file_at_most`], for a file that must be a regular file (a
/// module: a FIFO, device or socket is refused at once instead of blocking
/// `--check` and the language server, which never run anything).
pub fn read_regular_file_at_most(path: &str, max: usize) -> Result<Vec<u8>, OsError> {
    // O_NONBLOCK: opening a FIFO with no writer would block; on a regular
    // file the flag changes nothing.
    let file = open_to_read(path, OFlag::O_NONBLOCK)?;
    let mode = nix::sys::stat::fstat(&file).map_err(OsError::File)?.st_mode;
    match SFlag::from_bits_truncate(mode) & SFlag::S_IFMT {
        SFlag::S_IFREG => {}
        SFlag::S_IFDIR => return Err(OsError::File(Errno::EISDIR)),
        _ => return Err(OsError::NotARegularFile),
    }
    read_opened_at_most(file, max)
}

/// Opens a file to read, retrying an open interrupted by a signal unless
/// a stop was asked for.
fn open_to_read(path: &str, extra: OFlag) -> Result<OwnedFd, OsError> {
    loop {
        if pending_stop().is_err() {
            return Err(OsError::File(Errno::EINTR));
        }
        match open(
            path,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC | extra,
            Mode::empty(),
        ) {
            Ok(fd) => return Ok(fd),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::File(e)),
        }
    }
}

/// The bytes of an opened file, at most `max + 1` of them.
fn read_opened_at_most(file: OwnedFd, max: usize) -> Result<Vec<u8>, OsError> {
    let interrupted = || Err(OsError::File(Errno::EINTR));
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while bytes.len() <= max {
        match nix::unistd::read(&file, &mut buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) if pending_stop().is_err() => return interrupted(),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::File(e)),
        }
    }
    Ok(bytes)
}

/// A script given on stdin, as text: at most `max` bytes (an endless stdin,
/// `< /dev/zero`, is refused once past them instead of filling memory).
pub fn read_stdin_at_most(max: usize) -> Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > max {
        return Err(format!("larger than a script may be ({max} bytes)"));
    }
    String::from_utf8(bytes).map_err(|_| "stream did not contain valid UTF-8".to_string())
}

pub fn write_file(path: &str, bytes: &[u8], append: bool) -> Result<(), OsError> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)
}

/// The names in a folder, sorted. Every name comes through or the call
/// fails: a name that is not UTF-8 (a script's strings cannot hold it) and
/// an entry that cannot be read are errors, never silently skipped.
pub fn list_dir(path: &str) -> Result<Vec<String>, OsError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io_error)? {
        let name = entry.map_err(io_error)?.file_name();
        let name = name.into_string().map_err(|raw| {
            OsError::NoErrno(format!(
                "the name {:?} in it is not UTF-8 text",
                raw.to_string_lossy()
            ))
        })?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Creates a folder and any missing parents; fine if it exists.
pub fn make_dir(path: &str) -> Result<(), OsError> {
    std::fs::create_dir_all(path).map_err(io_error)
}

/// Which end of a copy failed, so the error can name the right path.
#[derive(Debug)]
pub enum CopyFailure {
    /// Reading the source (or finding what it is).
    Source(OsError),
    /// Creating or writing the destination.
    Destination(OsError),
}

/// Copies a regular file's bytes and permissions, or a symbolic link as a
/// link with the same target (never followed: a copy stays inside its tree).
/// A FIFO, socket or device is refused: reading one may never end.
pub fn copy_file(from: &str, to: &str) -> Result<u64, CopyFailure> {
    use std::io::{Read, Write};
    let kind = std::fs::symlink_metadata(from).map_err(|e| CopyFailure::Source(io_error(e)))?;
    if kind.file_type().is_symlink() {
        let target = std::fs::read_link(from).map_err(|e| CopyFailure::Source(io_error(e)))?;
        if std::fs::symlink_metadata(to).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(to).map_err(|e| CopyFailure::Destination(io_error(e)))?;
        }
        std::os::unix::fs::symlink(&target, to)
            .map_err(|e| CopyFailure::Destination(io_error(e)))?;
        return Ok(0);
    }
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a folder"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(CopyFailure::Source(OsError::NoErrno(format!(
            "it is {what}"
        ))));
    }
    let mut source = std::fs::File::open(from).map_err(|e| CopyFailure::Source(io_error(e)))?;
    let mut destination =
        std::fs::File::create(to).map_err(|e| CopyFailure::Destination(io_error(e)))?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut copied = 0u64;
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyFailure::Source(io_error(e))),
        };
        destination
            .write_all(&buffer[..n])
            .map_err(|e| CopyFailure::Destination(io_error(e)))?;
        copied += n as u64;
    }
    destination
        .set_permissions(kind.permissions())
        .map_err(|e| CopyFailure::Destination(io_error(e)))?;
    Ok(copied)
}

/// Whether the path itself is a symbolic link (not what it points to).
pub fn is_link(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The target a symbolic link holds, as written in it.
pub fn read_link(path: &str) -> Result<String, OsError> {
    let target = std::fs::read_link(path).map_err(io_error)?;
    target.into_os_string().into_string().map_err(|raw| {
        OsError::NoErrno(format!(
            "its target {:?} is not UTF-8 text",
            raw.to_string_lossy()
        ))
    })
}

pub fn remove_file(path: &str) -> Result<(), OsError> {
    std::fs::remove_file(path).map_err(io_error)
}

pub fn path_exists(path: &str) -> bool {
    std::path::Path::new(path).exists()
}

/// A regular file (through links): not a folder, FIFO, socket or device.
pub fn is_file(path: &str) -> bool {
    std::path::Path::new(path).is_file()
}

pub fn is_dir(path: &str) -> bool {
    std::path::Path::new(path).is_dir()
}

pub fn file_size(path: &str) -> Result<u64, OsError> {
    std::fs::metadata(path).map(|m| m.len()).map_err(io_error)
}

/// Writes a whole file as a shell's `>` would, but never leaves a part.
///
/// A link is followed to the file it names. A regular file (or a new one)
/// is replaced whole: the bytes go to a temporary file in the same folder
/// (so the rename stays on one file system), which then takes its place, so
/// a reader sees all of the old content or all of the new. Anything else
/// (a device such as /dev/null, a FIFO, a terminal) is written into, never
/// replaced: renaming over it would put a plain file where the device was.
pub fn write_file_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), OsError> {
    use std::io::Write;
    // A dangling link or a new file has no canonical path: write at `path`.
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(&target)
            .and_then(|mut file| file.write_all(bytes))
            .map_err(io_error);
    }
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
    let temporary = target.with_file_name(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let written = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(io_error)
}

/// Whether a file could be created in `folder` now: it exists, is a folder,
/// and this process may write and enter it. The error says why in words.
pub fn folder_accepts_files(folder: &std::path::Path) -> Result<(), &'static str> {
    use nix::unistd::{access, AccessFlags};
    let why = |errno: Errno| match errno {
        Errno::ENOENT => "no such folder",
        Errno::ENOTDIR => "not a folder",
        Errno::EACCES | Errno::EPERM | Errno::EROFS => "no permission to write in the folder",
        _ => "the folder cannot be written",
    };
    let metadata = std::fs::metadata(folder).map_err(|e| match e.raw_os_error() {
        Some(raw) => why(Errno::from_raw(raw)),
        None => why(Errno::UnknownErrno),
    })?;
    if !metadata.is_dir() {
        return Err(why(Errno::ENOTDIR));
    }
    access(folder, AccessFlags::W_OK | AccessFlags::X_OK).map_err(why)
}
