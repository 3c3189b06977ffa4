//! What programs read and write and where they are found: redirection files, text given as stdin, the null device, the PATH lookup.

use super::signals::pending_stop;
use super::OsError;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// How a program's redirection file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// stdin from the file.
    Read,
    /// stdout or stderr to the file, made empty first (`>`).
    Truncate,
    /// stdout or stderr added at the file's end (`>>`).
    Append,
}

/// Opens a file for a program's stream (closed on exec: the program gets
/// its own copy on 0, 1 or 2). A new file gets mode 0644 less the umask.
/// A stop request (SIGINT, SIGTERM, --timeout) ends an open that blocks (a
/// FIFO whose other end nobody opens) with EINTR, as `read_file` does.
pub fn open_for_program(path: &str, how: Redirect) -> Result<OwnedFd, OsError> {
    let flags = match how {
        Redirect::Read => OFlag::O_RDONLY,
        Redirect::Truncate => OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC,
        Redirect::Append => OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_APPEND,
    };
    let mode = Mode::from_bits_truncate(0o644);
    loop {
        if pending_stop().is_err() {
            return Err(OsError::File(Errno::EINTR));
        }
        match nix::fcntl::open(path, flags | OFlag::O_CLOEXEC, mode) {
            // A folder opens for reading, and the program would fail on its
            // first read ("cat: -: Is a directory"); a shell refuses `< folder`
            // before the program starts, as writing to one is refused.
            Ok(fd) if how == Redirect::Read && is_folder(&fd) => {
                return Err(OsError::File(Errno::EISDIR))
            }
            Ok(fd) => return Ok(fd),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::File(e)),
        }
    }
}

/// Whether an open descriptor is a folder.
fn is_folder(fd: &OwnedFd) -> bool {
    nix::sys::stat::fstat(fd).is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR)
}

/// The null device, for output thrown away.
pub fn null_output() -> Result<OwnedFd, OsError> {
    open_for_program("/dev/null", Redirect::Truncate)
}

/// Text a program reads as its stdin: an in-memory file holding it, read
/// from its start. No writer has to keep up with the reader, so a program
/// that writes before it has read all its input never blocks on it.
pub fn text_as_stdin(text: &[u8]) -> Result<OwnedFd, OsError> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let fd = memfd_create("procscript-stdin", MFdFlags::MFD_CLOEXEC).map_err(OsError::Call)?;
    let mut written = 0;
    while written < text.len() {
        match nix::unistd::write(&fd, &text[written..]) {
            Ok(n) => written += n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::Call(e)),
        }
    }
    nix::unistd::lseek(&fd, 0, nix::unistd::Whence::SeekSet).map_err(OsError::Call)?;
    Ok(fd)
}

/// Whether the folder exists (a program's `cwd`), worded as a file error when not.
pub fn check_folder(path: &str) -> Result<(), OsError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(OsError::File(Errno::ENOTDIR)),
        Err(e) => Err(OsError::File(Errno::from_raw(
            e.raw_os_error().unwrap_or(0),
        ))),
    }
}

/// Finds a program as execvp does, without starting it: a name with a `/`
/// is a path; another is looked up in the folders of PATH. An error says
/// why it cannot run (no such program, permission denied, a folder).
pub fn find_program(prog: &str) -> Result<(), OsError> {
    locate_program(prog).map(|_| ())
}

/// The file [`find_program`] finds.
pub(super) fn locate_program(prog: &str) -> Result<PathBuf, OsError> {
    let executable = |path: PathBuf| match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {
            nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK)
                .map(|()| path)
                .map_err(OsError::Program)
        }
        Ok(_) => Err(OsError::Program(Errno::EACCES)),
        Err(_) => Err(OsError::Program(Errno::ENOENT)),
    };
    if prog.is_empty() {
        return Err(OsError::Program(Errno::ENOENT));
    }
    if prog.contains('/') {
        // A folder named as a path is told as such (as bash does), not as
        // "permission denied", which sends the user to chmod.
        if std::fs::metadata(prog).is_ok_and(|meta| meta.is_dir()) {
            return Err(OsError::Program(Errno::EISDIR));
        }
        return executable(PathBuf::from(prog));
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/bin:/usr/bin".to_string());
    let mut reason = OsError::Program(Errno::ENOENT);
    for folder in path.split(':') {
        let folder = if folder.is_empty() { "." } else { folder };
        match executable(Path::new(folder).join(prog)) {
            Ok(found) => return Ok(found),
            // Found but not runnable: the answer unless a later folder has one.
            Err(OsError::Program(Errno::EACCES)) => reason = OsError::Program(Errno::EACCES),
            Err(_) => {}
        }
    }
    Err(reason)
}

/// The interpreter a script's `#!` line names (its first word), if the
/// file starts with one.
pub(super) fn interpreter_of(path: &Path) -> Option<String> {
    let mut head = [0u8; 256];
    let read = std::io::Read::read(&mut std::fs::File::open(path).ok()?, &mut head).ok()?;
    let line = head[..read].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    let word = String::from_utf8_lossy(line);
    word.split_whitespace().next().map(str::to_string)
}
