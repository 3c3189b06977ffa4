//! What stands at the cursor: the name under it or being typed, and for `x.name` the receiver before the dot.

/// A name at the cursor.
#[derive(Debug, PartialEq, Eq)]
pub struct Word<'t> {
    pub text: &'t str,
    /// Byte offsets of the name in the document.
    pub start: usize,
    pub end: usize,
    /// For `recv.name` (or `recv[i].name`), what stands before the dot.
    pub receiver: Option<Receiver<'t>>,
}

/// What a method is called on, as far as the text shows it.
#[derive(Debug, PartialEq, Eq)]
pub enum Receiver<'t> {
    /// `q.put`: a name.
    Name(&'t str, usize),
    /// `ends[0].send`: an item of a name.
    ItemOf(&'t str, usize),
    /// Anything else (a call's result, a literal).
    Unknown,
}

fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The name the cursor is in or just after (`pri|nt`, `print|`); for
/// completion the part before the cursor is what was typed so far.
pub fn word_at(text: &str, offset: usize) -> Word<'_> {
    let bytes = text.as_bytes();
    let offset = offset.min(text.len());
    let start = name_start(bytes, offset);
    let mut end = offset;
    while end < bytes.len() && is_name_byte(bytes[end]) {
        end += 1;
    }
    let receiver =
        (start > 0 && bytes[start - 1] == b'.').then(|| receiver_before(text, start - 1));
    Word {
        text: &text[start..end],
        start,
        end,
        receiver,
    }
}

fn name_start(bytes: &[u8], mut at: usize) -> usize {
    while at > 0 && is_name_byte(bytes[at - 1]) {
        at -= 1;
    }
    at
}

/// What stands before the dot at `dot`: a name, a name's item, or something else.
fn receiver_before(text: &str, dot: usize) -> Receiver<'_> {
    let bytes = text.as_bytes();
    let name = |end: usize| {
        let start = name_start(bytes, end);
        let word = &text[start..end];
        let is_name = word.bytes().next().is_some_and(|b| !b.is_ascii_digit());
        is_name.then_some((word, start))
    };
    if dot > 0 && bytes[dot - 1] == b']' {
        let Some(open) = matching_open(bytes, dot - 1) else {
            return Receiver::Unknown;
        };
        return name(open).map_or(Receiver::Unknown, |(w, at)| Receiver::ItemOf(w, at));
    }
    name(dot).map_or(Receiver::Unknown, |(w, at)| Receiver::Name(w, at))
}

/// The `[` that the `]` at `close` closes.
fn matching_open(bytes: &[u8], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for at in (0..=close).rev() {
        match bytes[at] {
            b']' => depth += 1,
            b'[' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_receivers() {
        let text = "q.pu + ends[i].se + f().x + print";
        let at = |s: &str| text.find(s).unwrap() + s.len();
        let put = word_at(text, at("q.pu"));
        assert_eq!(
            (put.text, put.receiver),
            ("pu", Some(Receiver::Name("q", 0)))
        );
        let send = word_at(text, at("].se"));
        assert_eq!(send.receiver, Some(Receiver::ItemOf("ends", 7)));
        assert_eq!(word_at(text, at("().x")).receiver, Some(Receiver::Unknown));
        let print = word_at(text, at("+ pr"));
        assert_eq!((print.text, print.receiver), ("print", None));
        assert_eq!(word_at(text, 0).text, "q");
    }
}
