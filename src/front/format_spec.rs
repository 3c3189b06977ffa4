//! Format specs of interpolations, `"{x:.2f}"`: parsed with the script, applied to a value at run time.

/// `[[fill]align][0][width][,][.precision][type]`, as in Python's mini-language
/// (the parts procscript has: no sign, `#` or `e`/`%` types).
#[derive(Clone, Debug, PartialEq)]
pub struct FormatSpec {
    fill: char,
    align: Option<char>,
    zero: bool,
    width: usize,
    thousands: bool,
    precision: Option<usize>,
    kind: Option<char>,
}

/// The widest field and most decimals a spec may ask for: enough for any
/// table, small enough that no spec makes a huge string.
const MAX_WIDTH: usize = 1000;

impl FormatSpec {
    /// Reads the text after the `:`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<FormatSpec, String> {
        let mut spec = FormatSpec {
            fill: ' ',
            align: None,
            zero: false,
            width: 0,
            thousands: false,
            precision: None,
            kind: None,
        };
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let is_align = |c: char| matches!(c, '<' | '>' | '^');
        if chars.len() >= 2 && is_align(chars[1]) {
            spec.fill = chars[0];
            spec.align = Some(chars[1]);
            i = 2;
        } else if chars.first().is_some_and(|c| is_align(*c)) {
            spec.align = Some(chars[0]);
            i = 1;
        }
        if chars.get(i) == Some(&'0') {
            spec.zero = true;
            i += 1;
        }
        let (width, next) = number(&chars, i);
        spec.width = width.unwrap_or(0);
        i = next;
        if chars.get(i) == Some(&',') {
            spec.thousands = true;
            i += 1;
        }
        if chars.get(i) == Some(&'.') {
            let (precision, next) = number(&chars, i + 1);
            spec.precision =
                Some(precision.ok_or("`.` must be followed by a number of decimals, as in `.2f`")?);
            i = next;
        }
        if let Some(&c) = chars.get(i) {
            if !matches!(c, 'f' | 'd' | 's') {
                return Err(format!(
                    "`{c}` is not a format type; the types are `f` (decimals), `d` (an int) and `s` (text)"
                ));
            }
            spec.kind = Some(c);
            i += 1;
        }
        if i < chars.len() {
            return Err(format!(
                "unexpected `{}`; a spec reads [[fill]align][0][width][,][.precision][type], as in `>8,.2f`",
                chars[i..].iter().collect::<String>()
            ));
        }
        if spec.width > MAX_WIDTH || spec.precision.is_some_and(|p| p > MAX_WIDTH) {
            return Err(format!("widths and precisions go up to {MAX_WIDTH}"));
        }
        Ok(spec)
    }

    /// The formatted text of a value: `number` when it is one, and `text`,
    /// how `print` shows it. An error says why the spec does not fit the value.
    pub fn apply(
        &self,
        number: Option<Number>,
        text: &str,
        type_name: &str,
    ) -> Result<String, String> {
        let body = match number {
            Some(n) => self.number(n, text, type_name)?,
            None => {
                if matches!(self.kind, Some('f' | 'd')) || self.thousands || self.zero {
                    return Err(format!("it formats numbers, and this is {type_name}"));
                }
                match self.precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text.to_string(),
                }
            }
        };
        Ok(self.pad(body, number.is_some()))
    }

    fn number(&self, n: Number, shown: &str, type_name: &str) -> Result<String, String> {
        let text = match (n, self.kind, self.precision) {
            (_, Some('s'), _) => return Err(format!("`s` formats text, and this is {type_name}")),
            (Number::Float(_), Some('d'), _) => {
                return Err(format!("`d` formats an int, and this is {type_name}"))
            }
            (_, Some('d'), Some(_)) => return Err("`d` takes no precision".into()),
            (Number::Int(i), _, None) => i.to_string(),
            // Exactly, not through a float: 9007199254740993 keeps its last digit.
            (Number::Int(i), _, Some(0)) => i.to_string(),
            (Number::Int(i), _, Some(p)) => format!("{i}.{}", "0".repeat(p)),
            // As `print` spells them, whatever the precision.
            (Number::Float(x), _, _) if !x.is_finite() => shown.to_string(),
            (Number::Float(x), _, Some(p)) => format!("{x:.p$}"),
            (Number::Float(x), Some('f'), None) => format!("{x:.6}"),
            (Number::Float(_), _, None) => shown.to_string(),
        };
        Ok(if self.thousands {
            group_thousands(&text)
        } else {
            text
        })
    }

    fn pad(&self, body: String, numeric: bool) -> String {
        let len = body.chars().count();
        if len >= self.width {
            return body;
        }
        let missing = self.width - len;
        if self.zero && self.align.is_none() && numeric {
            let (sign, digits) = match body.strip_prefix('-') {
                Some(rest) => ("-", rest),
                None => ("", body.as_str()),
            };
            if self.thousands && digits.starts_with(|c: char| c.is_ascii_digit()) {
                return zero_padded_groups(sign, digits, self.width);
            }
            return format!("{sign}{}{digits}", "0".repeat(missing));
        }
        let fill = if self.zero && self.align.is_none() {
            '0'
        } else {
            self.fill
        };
        let align = self.align.unwrap_or(if numeric { '>' } else { '<' });
        let (left, right) = match align {
            '<' => (0, missing),
            '>' => (missing, 0),
            _ => (missing / 2, missing - missing / 2),
        };
        let fill = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
        format!("{}{body}{}", fill(left), fill(right))
    }
}

/// A value a spec formats as a number.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// `1234567.5` as `1,234,567.5`: commas between groups of three digits of the whole part.
fn group_thousands(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (whole, fraction) = match rest.find('.') {
        Some(dot) => rest.split_at(dot),
        None => (rest, ""),
    };
    if !whole.chars().all(|c| c.is_ascii_digit()) {
        return text.to_string();
    }
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}{fraction}")
}

/// `-1,234.5` zero-padded to `width` as Python does it: the zeros are digits
/// of the whole part, grouped with the rest (`0,001,234.5`).
fn zero_padded_groups(sign: &str, grouped: &str, width: usize) -> String {
    let (whole, fraction) = match grouped.find('.') {
        Some(dot) => grouped.split_at(dot),
        None => (grouped, ""),
    };
    let mut digits: String = whole.chars().filter(|c| *c != ',').collect();
    loop {
        let text = group_thousands(&format!("{digits}{fraction}"));
        if sign.len() + text.chars().count() >= width {
            return format!("{sign}{text}");
        }
        digits.insert(0, '0');
    }
}

/// Reads decimal digits from `i`: the number, if any, and where they end.
fn number(chars: &[char], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        i += 1;
    }
    ((i > start).then_some(n), i)
}

#[cfg(test)]
mod tests {
    use super::{FormatSpec, Number};

    fn fmt(spec: &str, n: Option<Number>, text: &str) -> String {
        FormatSpec::parse(spec)
            .unwrap()
            .apply(n, text, "a value")
            .unwrap()
    }

    #[test]
    fn the_specs_of_the_design() {
        assert_eq!(fmt(".2f", Some(Number::Float(1.23456)), ""), "1.23");
        assert_eq!(fmt(">6", Some(Number::Int(42)), ""), "    42");
        assert_eq!(fmt("<10", None, "name"), "name      ");
        assert_eq!(fmt("08", Some(Number::Int(-42)), ""), "-0000042");
        assert_eq!(fmt(",", Some(Number::Int(1234567)), ""), "1,234,567");
        assert_eq!(fmt(",.2f", Some(Number::Float(-1234.5)), ""), "-1,234.50");
        assert_eq!(fmt("*^7", None, "ab"), "**ab***");
        assert_eq!(fmt(".2f", Some(Number::Int(3)), ""), "3.00");
    }

    #[test]
    fn bad_specs_and_mismatches_are_errors() {
        for bad in [".f", "x", ".2q", "5.2fz", "99999"] {
            assert!(FormatSpec::parse(bad).is_err(), "{bad}");
        }
        let spec = FormatSpec::parse(".2f").unwrap();
        assert!(spec.apply(None, "text", "a string").is_err());
        let spec = FormatSpec::parse("d").unwrap();
        assert!(spec.apply(Some(Number::Float(1.5)), "", "a float").is_err());
    }
}
