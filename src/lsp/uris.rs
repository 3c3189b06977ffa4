//! Document URIs and file paths, both ways (`file:///tmp/a%20b.proc` is `/tmp/a b.proc`).

use lsp_types::Uri;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The file a `file:` URI names; None for other schemes.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // An authority (`file://localhost/x`) comes before the path's first `/`.
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or(path);
    Some(PathBuf::from(OsString::from_vec(percent_decode(path))))
}

/// The `file:` URI of a path.
pub fn from_path(path: &Path) -> Option<Uri> {
    let mut text = String::from("file://");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            text.push(byte as char);
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    text.parse().ok()
}

/// How a document is named in its diagnostics and resolved against: its
/// path for a file, else the URI as written.
pub fn shown_name(uri: &Uri) -> String {
    to_path(uri).map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string())
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_uris_round_trip() {
        let path = Path::new("/tmp/a b/é.proc");
        let uri = from_path(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/%C3%A9.proc");
        assert_eq!(to_path(&uri).unwrap(), path);
        let local: Uri = "file://localhost/x/y.proc".parse().unwrap();
        assert_eq!(to_path(&local).unwrap(), Path::new("/x/y.proc"));
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(to_path(&untitled), None);
        assert_eq!(shown_name(&untitled), "untitled:Untitled-1");
    }
}
