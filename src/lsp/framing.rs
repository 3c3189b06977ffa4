//! Reads the client's messages: `Content-Length` framed JSON-RPC, within sizes that bound what the server holds.

use crate::limits::{MAX_LSP_HEADER_BYTES, MAX_LSP_MESSAGE_BYTES};
use lsp_server::Message;
use std::io::{self, BufRead, Read};

/// The next message, or None at the end of the input. A message that cannot
/// be used (a bad header, a body that is not JSON-RPC, one over
/// `MAX_LSP_MESSAGE_BYTES`) is read whole and is an `InvalidData` error, so
/// the caller can skip it and read the next one. Framing is done here rather
/// than by `lsp_server::Message::read`, which allocates whatever length a
/// header names (a panic for `Content-Length: 18446744073709551615`).
pub fn read_message(input: &mut impl BufRead) -> io::Result<Option<Message>> {
    let Some(length) = read_headers(input)? else {
        return Ok(None);
    };
    let length = length?;
    if length > MAX_LSP_MESSAGE_BYTES as u64 {
        let dropped = io::copy(&mut input.take(length), &mut io::sink())?;
        if dropped < length {
            return Ok(None);
        }
        return Err(invalid(format!(
            "a message of {length} bytes is over the limit of {MAX_LSP_MESSAGE_BYTES} bytes"
        )));
    }
    let mut body = vec![0; length as usize];
    input.read_exact(&mut body)?;
    let message = serde_json::from_slice(&body)
        .map_err(|e| invalid(format!("the body is not a JSON-RPC message: {e}")))?;
    Ok(Some(message))
}

/// Reads header lines up to the empty line that ends them: None at the end
/// of the input, else the body's length or why there is none. Headers other
/// than `Content-Length` (`Content-Type`) and lines that are no header are
/// passed over.
fn read_headers(input: &mut impl BufRead) -> io::Result<Option<io::Result<u64>>> {
    let mut length = Err(invalid("no Content-Length".to_string()));
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .by_ref()
            .take(MAX_LSP_HEADER_BYTES as u64)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(None);
        }
        let Some(header) = line.strip_suffix(b"\n") else {
            // A piece of an over-long line: no header we read.
            continue;
        };
        let header = header.strip_suffix(b"\r").unwrap_or(header);
        if header.is_empty() {
            return Ok(Some(length));
        }
        if length.is_ok() {
            // A second Content-Length would be ambiguous: the first counts.
            continue;
        }
        if let Some(value) = content_length(header) {
            length = value
                .parse::<u64>()
                .map_err(|e| invalid(format!("Content-Length {value:?}: {e}")));
        }
    }
}

/// The value of a `Content-Length: N` header line (the name in any case).
fn content_length(header: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(header).ok()?;
    let (name, value) = text.split_once(": ")?;
    name.eq_ignore_ascii_case("Content-Length").then_some(value)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
