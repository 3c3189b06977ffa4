//! Operator semantics: arithmetic with overflow checks, joining, comparison, unary operators.

use crate::error::{ErrorKind, Unwind};
use crate::front::ast::{BinOp, Span, UnOp};
use crate::front::ir::Sides;
use crate::limits;
use crate::values::{compare, equals, Counted, Value};
use std::cmp::Ordering;
use std::rc::Rc;

/// An operator failure, before it is placed at a span.
#[derive(Debug)]
pub struct OpError {
    pub kind: ErrorKind,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub blame: Blame,
}

/// Which part of `a op b` an operator error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// The result (an overflow, a value too large): the whole expression.
    Whole,
    /// The right side (a zero divisor).
    Right,
    /// The sides' types (left, right): each side is labelled with its own.
    Types(&'static str, &'static str),
}

impl OpError {
    /// The error, placed at the operator's whole expression (with its label).
    pub fn at(self, span: Span) -> Unwind {
        let mut diag = self.kind.at(span, self.message, self.label);
        diag.help = self.help;
        Unwind::error(diag)
    }

    /// The error without its help line, for callers that word their own
    /// (a builtin that builds a string or list).
    pub fn at_plain(self, span: Span) -> Unwind {
        Unwind::error(self.kind.at(span, self.message, self.label))
    }

    /// The error, placed at the side of `a op b` it is about.
    pub fn at_sides(self, span: Span, sides: Sides) -> Unwind {
        let mut diag = match self.blame {
            Blame::Whole => return self.at(span),
            Blame::Right => self.kind.at(sides.right, self.message, self.label),
            Blame::Types(left, right) => self
                .kind
                .at(sides.right, self.message, format!("this is {right}"))
                .with_note(sides.left, format!("this is {left}")),
        };
        diag.help = self.help;
        Unwind::error(diag)
    }
}

fn fail(kind: ErrorKind, message: String, label: impl Into<String>, help: Option<&str>) -> OpError {
    OpError {
        kind,
        message,
        label: label.into(),
        help: help.map(str::to_string),
        blame: Blame::Whole,
    }
}

/// Two values `<` cannot order: a NaN, or types with no order between them.
fn unordered(op: BinOp, a: &Value, b: &Value) -> OpError {
    if !crate::values::nan_is_why_unordered(a, b) {
        return type_mismatch(op, a, b);
    }
    fail(
        ErrorKind::InvalidValue,
        crate::values::NAN_UNORDERED.to_string(),
        "nan here",
        Some("test for it with `x != x` (only nan is not equal to itself)"),
    )
}

fn type_mismatch(op: BinOp, a: &Value, b: &Value) -> OpError {
    let verb = match op {
        BinOp::Add => "add",
        BinOp::Sub => "subtract",
        BinOp::Mul => "multiply",
        BinOp::Div => "divide",
        BinOp::Mod => "take the remainder of",
        BinOp::Range => "make a range of",
        _ => "compare",
    };
    let (ta, tb) = (a.type_name(), b.type_name());
    let help = match (op, a, b) {
        (BinOp::Add, Value::Str(_), _) | (BinOp::Add, _, Value::Str(_)) => {
            Some("convert with str(x), or write the value inside a string: \"{x}\"")
        }
        _ => None,
    };
    OpError {
        blame: Blame::Types(ta, tb),
        ..fail(
            ErrorKind::TypeMismatch,
            format!("cannot {verb} {ta} and {tb}"),
            format!("{ta} {} {tb}", op.symbol()),
            help,
        )
    }
}

fn overflow(op: BinOp) -> OpError {
    fail(
        ErrorKind::Overflow,
        format!("integer overflow in `{}`", op.symbol()),
        "the result does not fit in a 64-bit int",
        Some("convert one side to a float with float(x) for a larger, approximate result"),
    )
}

fn by_zero(op: BinOp) -> OpError {
    let what = if op == BinOp::Div {
        "division"
    } else {
        "modulo"
    };
    OpError {
        blame: Blame::Right,
        ..fail(
            ErrorKind::DivisionByZero,
            format!("{what} by zero"),
            "the right side is zero",
            None,
        )
    }
}

/// Applies a binary operator (not `and`/`or`, which short-circuit in the evaluator).
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, OpError> {
    use Value::{Float, Int};
    // Ints first: the common case in loops.
    if let (Int(x), Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        return Ok(match op {
            BinOp::Add => Int(x.checked_add(y).ok_or_else(|| overflow(op))?),
            BinOp::Sub => Int(x.checked_sub(y).ok_or_else(|| overflow(op))?),
            BinOp::Mul => Int(x.checked_mul(y).ok_or_else(|| overflow(op))?),
            BinOp::Div | BinOp::Mod if y == 0 => return Err(by_zero(op)),
            BinOp::Div => Int(x.checked_div(y).ok_or_else(|| overflow(op))?),
            BinOp::Mod => Int(x.checked_rem(y).ok_or_else(|| overflow(op))?),
            BinOp::Eq => Value::Bool(x == y),
            BinOp::Ne => Value::Bool(x != y),
            BinOp::Lt => Value::Bool(x < y),
            BinOp::Le => Value::Bool(x <= y),
            BinOp::Gt => Value::Bool(x > y),
            BinOp::Ge => Value::Bool(x >= y),
            BinOp::Range => range_list(x, y)?,
        });
    }
    match op {
        BinOp::Eq => return Ok(Value::Bool(equals(a, b))),
        BinOp::Ne => return Ok(Value::Bool(!equals(a, b))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = compare(a, b).ok_or_else(|| unordered(op, a, b))?;
            return Ok(Value::Bool(match op {
                BinOp::Lt => ord == Ordering::Less,
                BinOp::Le => ord != Ordering::Greater,
                BinOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }));
        }
        _ => {}
    }
    if let (Some(x), Some(y)) = (as_float(a), as_float(b)) {
        return Ok(Float(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div | BinOp::Mod if y == 0.0 => return Err(by_zero(op)),
            BinOp::Div => x / y,
            BinOp::Mod => x % y,
            _ => return Err(type_mismatch(op, a, b)),
        }));
    }
    match (op, a, b) {
        (BinOp::Add, Value::Str(x), Value::Str(y)) => {
            check_len(x.len() + y.len(), "string")?;
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::Str(s.into()))
        }
        (BinOp::Add, Value::List(x), Value::List(y)) => {
            check_len(x.borrow().len() + y.borrow().len(), "list")?;
            let mut items = x.borrow().clone();
            items.extend(y.borrow().iter().cloned());
            Ok(Value::list(items))
        }
        (BinOp::Mul, Value::Str(s), Int(n)) | (BinOp::Mul, Int(n), Value::Str(s)) => {
            let count = repeat_count(*n, s.len(), "string")?;
            Ok(Value::Str(Rc::from(s.repeat(count))))
        }
        (BinOp::Mul, Value::List(items), Int(n)) | (BinOp::Mul, Int(n), Value::List(items)) => {
            let items = items.borrow();
            let count = repeat_count(*n, items.len(), "list")?;
            check_len(items.len() * count, "list")?;
            let mut out = Vec::with_capacity(items.len() * count);
            for _ in 0..count {
                out.extend(items.iter().cloned());
            }
            Ok(Value::list(out))
        }
        _ => Err(type_mismatch(op, a, b)),
    }
}

/// Refuses to build a string or list past `limits::MAX_VALUE_LEN`, so a
/// doubling loop ends with an error instead of exhausting memory.
pub fn check_len(len: usize, what: &str) -> Result<(), OpError> {
    let (max, unit) = if what == "list" {
        (limits::MAX_LIST_LEN, "items")
    } else {
        (limits::MAX_VALUE_LEN, "bytes")
    };
    if len > max {
        return Err(fail(
            ErrorKind::TooLarge,
            format!("{what} too large: more than {max} {unit}"),
            "this would make it",
            Some("procscript limits a single string or list; see docs/language.md, Limits"),
        ));
    }
    Ok(())
}

fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// How many copies `x * n` makes, if the result stays within the limits.
fn repeat_count(n: i64, unit: usize, what: &str) -> Result<usize, OpError> {
    let count = n.max(0) as usize;
    check_len(unit.saturating_mul(count), what)?;
    Ok(count)
}

/// `a..b` outside a `for` head: the list of ints from a up to (not including) b.
pub fn range_list(start: i64, end: i64) -> Result<Value, OpError> {
    let len = end.saturating_sub(start).max(0) as u64;
    if len > limits::MAX_LIST_LEN as u64 {
        return Err(fail(
            ErrorKind::TooLarge,
            "range too large to build as a list".to_string(),
            format!("{len} elements"),
            Some("use it directly in a `for` loop, which counts without building a list"),
        ));
    }
    Ok(Value::counted(Counted {
        start,
        step: 1,
        count: len,
    }))
}

pub fn unary(op: UnOp, v: &Value) -> Result<Value, OpError> {
    match (op, v) {
        (UnOp::Not, v) => Ok(Value::Bool(!v.truthy())),
        (UnOp::Neg, Value::Int(n)) => n.checked_neg().map(Value::Int).ok_or_else(|| {
            fail(
                ErrorKind::Overflow,
                "integer overflow in `-`".to_string(),
                "the result does not fit in a 64-bit int",
                None,
            )
        }),
        (UnOp::Neg, Value::Float(x)) => Ok(Value::Float(-x)),
        (UnOp::Neg, other) => Err(fail(
            ErrorKind::TypeMismatch,
            format!("cannot negate {}", other.type_name()),
            format!("this is {}", other.type_name()),
            None,
        )),
    }
}
