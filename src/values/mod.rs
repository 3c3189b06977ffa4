//! Runtime values: their representation, how they print, and structural equality and order.

pub mod host;
pub mod pins;

use crate::front::ir::{FnProto, Literal};
use crate::limits;
use indexmap::IndexMap;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::rc::Rc;

pub type List = Rc<RefCell<Items>>;
/// A map's entries in insertion order. Keys are hashed on every lookup, so
/// foldhash instead of SipHash: as fast as FxHash here, and seeded per
/// process, so keys read from a hostile file cannot be picked to collide.
pub type Entries = IndexMap<Rc<str>, Value, foldhash::fast::RandomState>;
pub type Map = Rc<RefCell<MapItems>>;

/// A list's items, and its stamp (see [`pins`]: every change through
/// `DerefMut` of a list that a pool may have pinned is seen there first).
/// Dropping nested lists and maps would recurse once per level (a list nested
/// a million deep crashed the process), so dropping takes them apart with an
/// explicit stack instead.
///
/// A range (`a..b`, `range(...)`) starts out counted, not built: it is built the
/// first time it is used as a list (`Deref`), and read item by item without being
/// built by `for` and `p.imap` (`len`, `item`), so a long range costs no memory there.
#[derive(Debug, Default)]
pub struct Items {
    built: std::cell::OnceCell<Vec<Value>>,
    stamp: u64,
    /// The range these items are, while they are not built.
    counted: Option<Counted>,
}

/// The ints start, start + step, ... (count of them), not built into a list.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub start: i64,
    pub step: i64,
    pub count: u64,
}

impl Counted {
    /// The `index`th int (callers check `index < count`). In 128 bits: the
    /// ints all fit in i64 though `index * step` may not.
    pub fn at(&self, index: u64) -> i64 {
        (self.start as i128 + index as i128 * self.step as i128) as i64
    }

    fn build(self) -> Vec<Value> {
        (0..self.count).map(|k| Value::Int(self.at(k))).collect()
    }
}

/// A map's entries and its stamp, changed and dropped like `Items`.
#[derive(Debug, Default)]
pub struct MapItems(Entries, u64);

impl Items {
    pub fn new(items: Vec<Value>) -> Items {
        Items {
            built: std::cell::OnceCell::from(items),
            stamp: pins::now(),
            counted: None,
        }
    }

    /// A range, counted until it is used as a list.
    pub fn counted(range: Counted) -> Items {
        Items {
            built: std::cell::OnceCell::new(),
            stamp: pins::now(),
            counted: Some(range),
        }
    }

    /// The epoch this list was made in, or first changed in after a pin.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The range these items are, while not built (a `for` or stream counts it).
    pub fn as_counted(&self) -> Option<Counted> {
        self.counted.filter(|_| self.built.get().is_none())
    }

    /// How many items (shadows `Vec::len`, so a counted range is not built for it).
    pub fn len(&self) -> usize {
        match self.as_counted() {
            Some(range) => range.count as usize,
            None => self.deref_built().len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item at `index`, without building a counted range.
    pub fn item(&self, index: usize) -> Option<Value> {
        match self.as_counted() {
            Some(range) => {
                ((index as u64) < range.count).then(|| Value::Int(range.at(index as u64)))
            }
            None => self.deref_built().get(index).cloned(),
        }
    }

    fn deref_built(&self) -> &Vec<Value> {
        self.built
            .get_or_init(|| self.counted.map_or_else(Vec::new, Counted::build))
    }
}

impl MapItems {
    pub fn new(entries: Entries) -> MapItems {
        MapItems(entries, pins::now())
    }

    /// The epoch this map was made in, or first changed in after a pin.
    pub fn stamp(&self) -> u64 {
        self.1
    }
}

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    #[inline]
    fn deref(&self) -> &Vec<Value> {
        self.deref_built()
    }
}

impl std::ops::DerefMut for Items {
    #[inline]
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        self.deref_built();
        self.counted = None;
        if pins::guarded(self.stamp) {
            let items = self.deref_built();
            let key = self as *const Items as usize;
            self.stamp = pins::before_change(key, &|| pins::Image::List(items.clone()));
        }
        self.built.get_mut().expect("built just above")
    }
}

impl std::ops::Deref for MapItems {
    type Target = Entries;
    fn deref(&self) -> &Entries {
        &self.0
    }
}

impl std::ops::DerefMut for MapItems {
    #[inline]
    fn deref_mut(&mut self) -> &mut Entries {
        if pins::guarded(self.1) {
            let entries = &self.0;
            let key = self as *const MapItems as usize;
            self.1 = pins::before_change(key, &|| pins::Image::Map(entries.clone()));
        }
        &mut self.0
    }
}

/// Drops values, taking apart the lists and maps that nothing else holds
/// without recursion.
fn drop_flat(mut pending: Vec<Value>) {
    while let Some(value) = pending.pop() {
        match value {
            Value::List(list) => {
                if let Ok(cell) = Rc::try_unwrap(list) {
                    if let Some(built) = cell.into_inner().built.get_mut() {
                        pending.append(built);
                    }
                }
            }
            Value::Map(map) => {
                if let Ok(cell) = Rc::try_unwrap(map) {
                    pending.extend(std::mem::take(&mut cell.into_inner().0).into_values());
                }
            }
            Value::Func(closure) => {
                if let Ok(mut closure) = Rc::try_unwrap(closure) {
                    pending.extend(closure.take_captures());
                }
            }
            Value::Cell(cell) => {
                if let Ok(cell) = Rc::try_unwrap(cell) {
                    pending.push(cell.into_inner());
                }
            }
            other => drop(other),
        }
    }
}

impl Closure {
    /// The values of captured variables that only this closure holds.
    fn take_captures(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.upvals)
            .into_vec()
            .into_iter()
            .filter_map(|cell| Rc::try_unwrap(cell).ok().map(RefCell::into_inner))
            .collect()
    }
}

/// Closures capturing closures (a chain built in a loop) are freed flat too.
impl Drop for Closure {
    fn drop(&mut self) {
        if !self.upvals.is_empty() {
            drop_flat(self.take_captures());
        }
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        let Some(items) = self.built.get_mut() else {
            return;
        };
        if items
            .iter()
            .any(|v| matches!(v, Value::List(_) | Value::Map(_)))
        {
            drop_flat(std::mem::take(items));
        }
    }
}

impl Drop for MapItems {
    fn drop(&mut self) {
        if self
            .0
            .values()
            .any(|v| matches!(v, Value::List(_) | Value::Map(_)))
        {
            drop_flat(std::mem::take(&mut self.0).into_values().collect());
        }
    }
}
/// A variable captured by a closure: shared by every closure that sees it.
pub type Upval = Rc<RefCell<Value>>;

/// A script value. Strings are shared and immutable; lists and maps are shared
/// and mutable (like Python's), so reading a variable never copies them.
///
/// ```
/// use procscript::Value;
///
/// let v = Value::list(vec![Value::Int(1), Value::str("two"), Value::Nil]);
/// assert_eq!(v.type_name(), "list");
/// assert_eq!(v.to_repr(), "[1, \"two\", nil]");
/// assert!(v.truthy() && !Value::Nil.truthy());
/// if let Value::List(items) = &v {
///     assert_eq!(items.borrow().len(), 3);
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(List),
    Map(Map),
    Func(Rc<Closure>),
    Builtin(u16),
    /// A function of the program that embeds procscript.
    Host(Rc<crate::values::host::HostFunction>),
    /// A child process started by `spawn`.
    Process(Rc<crate::process::ProcessHandle>),
    /// A queue between processes.
    Queue(Rc<crate::process::queue::Queue>),
    /// One end of a pipe between processes.
    Pipe(Rc<crate::process::pipe::PipeEnd>),
    /// A lock, event, semaphore, barrier or shared value between processes.
    Sync(Rc<crate::process::sync::SyncObject>),
    /// In a remote task: a queue, pipe end, lock... of the driver, whose
    /// methods are relayed to it (see `process::remote::relayed`).
    Relayed(Rc<crate::process::remote::relayed::Proxy>),
    /// A pool of worker processes.
    Pool(Rc<crate::process::pool::Pool>),
    /// A task submitted to a pool.
    Task(Rc<crate::process::pool::TaskHandle>),
    /// The results of `p.imap`/`p.imap_unordered`, read by a `for` loop.
    TaskStream(Rc<crate::process::pool_stream::TaskStream>),
    /// Internal: a local variable that a closure captured lives in a cell.
    Cell(Upval),
    /// Internal: a variable whose `let` has not run yet.
    Uninit,
}

/// A function value: its compiled code and the variables it captured.
#[derive(Debug)]
pub struct Closure {
    pub proto: Rc<FnProto>,
    pub upvals: Box<[Upval]>,
}

impl Value {
    /// A string value: `Value::str("hi").to_repr()` is `"hi"` with quotes.
    pub fn str(s: &str) -> Value {
        Value::Str(s.into())
    }

    /// A new list; see [`Value`].
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(Items::new(items))))
    }

    /// A range as a list, counted until it is used as one.
    pub fn counted(range: Counted) -> Value {
        Value::List(Rc::new(RefCell::new(Items::counted(range))))
    }

    /// A new map from its entries (insertion order is kept).
    ///
    /// ```
    /// use procscript::Value;
    ///
    /// let mut entries = procscript::values::Entries::default();
    /// entries.insert("n".into(), Value::Int(3));
    /// assert_eq!(Value::map(entries).to_repr(), "{\"n\": 3}");
    /// ```
    pub fn map(entries: Entries) -> Value {
        Value::Map(Rc::new(RefCell::new(MapItems::new(entries))))
    }

    /// The name of the value's type, as `type()` returns it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Func(_) | Value::Builtin(_) | Value::Host(_) => "function",
            Value::Process(_) => "process",
            Value::Queue(_) => "queue",
            Value::Pipe(_) => "pipe end",
            Value::Sync(o) => o.kind().type_name(),
            Value::Relayed(p) => p.type_name(),
            Value::Pool(_) => "pool",
            Value::Task(_) => "task",
            Value::TaskStream(_) => "task stream",
            Value::Cell(c) => c.borrow().type_name(),
            Value::Uninit => "nil",
        }
    }

    /// Only `false` and `nil` are false.
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The text `print` and `str` produce: strings as they are, everything else as written.
    /// Past `limits::MAX_VALUE_LEN` bytes the text stops early (a list's text
    /// can be far larger than the list): a caller that keeps it checks the length.
    ///
    /// ```
    /// use procscript::Value;
    ///
    /// assert_eq!(Value::str("a").to_display(), "a");
    /// assert_eq!(Value::list(vec![Value::str("a")]).to_display(), "[\"a\"]");
    /// assert_eq!(Value::Float(1.0).to_display(), "1.0");
    /// ```
    pub fn to_display(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            other => {
                let mut out = String::new();
                other.write_repr(&mut out, &mut Vec::new());
                out
            }
        }
    }

    /// The text of a value as written in a script: strings quoted (what the prompt echoes).
    pub fn to_repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out, &mut Vec::new());
        out
    }

    pub fn write_display(&self, out: &mut String) {
        match self {
            Value::Str(s) => out.push_str(s),
            other => other.write_repr(out, &mut Vec::new()),
        }
    }

    /// The text of a value inside a container: strings quoted.
    /// `seen` holds the containers being printed, so a list that contains itself prints `[...]`.
    fn write_repr(&self, out: &mut String, seen: &mut Vec<*const ()>) {
        match self {
            Value::Nil | Value::Uninit => out.push_str("nil"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Float(x) => write_float(*x, out),
            Value::Str(s) => write_quoted(s, out),
            Value::List(items) => write_container(
                out,
                seen,
                Rc::as_ptr(items) as *const (),
                "[",
                "]",
                |out, seen| {
                    for (i, item) in items.borrow().iter().enumerate() {
                        if out.len() > limits::MAX_VALUE_LEN {
                            break; // the caller refuses it; stop before memory runs out
                        }
                        if i > 0 {
                            out.push_str(", ");
                        }
                        item.write_repr(out, seen);
                    }
                },
            ),
            Value::Map(entries) => write_container(
                out,
                seen,
                Rc::as_ptr(entries) as *const (),
                "{",
                "}",
                |out, seen| {
                    for (i, (k, v)) in entries.borrow().iter().enumerate() {
                        if out.len() > limits::MAX_VALUE_LEN {
                            break; // the caller refuses it; stop before memory runs out
                        }
                        if i > 0 {
                            out.push_str(", ");
                        }
                        write_quoted(k, out);
                        out.push_str(": ");
                        v.write_repr(out, seen);
                    }
                },
            ),
            Value::Func(c) if c.proto.name.is_empty() => out.push_str("<fn>"),
            Value::Func(c) => {
                let _ = write!(out, "<fn {}>", c.proto.name);
            }
            Value::Builtin(id) => {
                let _ = write!(out, "<builtin {}>", crate::front::spec::name(*id));
            }
            Value::Host(h) => {
                let _ = write!(out, "<host {}>", h.name);
            }
            Value::Process(h) => {
                let _ = write!(out, "<process {} pid {}>", h.name, h.pid);
            }
            Value::Queue(q) => {
                let _ = write!(out, "<queue of {}>", q.size());
            }
            Value::Pipe(end) => {
                let _ = write!(out, "<pipe end of {}>", end.waiting());
            }
            Value::Sync(o) => out.push_str(&o.describe()),
            Value::Relayed(p) => {
                let _ = write!(out, "<{} of the driver>", p.type_name());
            }
            Value::Pool(p) => {
                let _ = write!(out, "<pool of {}>", p.size);
            }
            Value::Task(t) => {
                let _ = write!(out, "<task {}>", t.id);
            }
            Value::TaskStream(s) => {
                let _ = write!(out, "<task stream of {} items>", s.item_count());
            }
            Value::Cell(c) => c.borrow().write_repr(out, seen),
        }
    }
}

/// Writes a list or map between its brackets, or `[...]` / `{...}` when it is
/// already being printed further out (a container that holds itself).
fn write_container(
    out: &mut String,
    seen: &mut Vec<*const ()>,
    id: *const (),
    open: &str,
    close: &str,
    body: impl FnOnce(&mut String, &mut Vec<*const ()>),
) {
    if seen.contains(&id) || seen.len() >= limits::MAX_VALUE_DEPTH {
        out.push_str(open);
        out.push_str("...");
        out.push_str(close);
        return;
    }
    seen.push(id);
    out.push_str(open);
    body(out, seen);
    out.push_str(close);
    seen.pop();
}

/// Floats always show that they are floats: `1.0`, `0.5`, `1e+16`, `inf`, `nan`.
pub fn write_float(x: f64, out: &mut String) {
    if x.is_nan() {
        out.push_str("nan");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
    } else if x != 0.0 && (x.abs() >= 1e16 || x.abs() < 1e-4) {
        // Exponent form like Python's repr: 1e+16, 2.5e-05.
        let text = format!("{x:e}");
        let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exp.abs());
    } else if x.fract() == 0.0 {
        let _ = write!(out, "{x:.1}");
    } else {
        let _ = write!(out, "{x}");
    }
}

fn write_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Structural equality; `1 == 1.0` is true, as in Python.
pub fn equals(a: &Value, b: &Value) -> bool {
    equals_at(a, b, 0)
}

fn equals_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > limits::MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(a, b)| equals_at(a, b, depth + 1))
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equals_at(v, w, depth + 1)))
        }
        (Value::Func(x), Value::Func(y)) => Rc::ptr_eq(x, y),
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Host(x), Value::Host(y)) => Rc::ptr_eq(x, y),
        (Value::Process(x), Value::Process(y)) => x.pid == y.pid && x.owner == y.owner,
        (Value::Queue(x), Value::Queue(y)) => Rc::ptr_eq(x, y),
        (Value::Pipe(x), Value::Pipe(y)) => x.id() == y.id(),
        (Value::Sync(x), Value::Sync(y)) => x.id() == y.id(),
        (Value::Relayed(x), Value::Relayed(y)) => x.index == y.index,
        (Value::Pool(x), Value::Pool(y)) => Rc::ptr_eq(x, y),
        (Value::Task(x), Value::Task(y)) => Rc::ptr_eq(x, y),
        (Value::TaskStream(x), Value::TaskStream(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// What `<`, `sort`, `min` and `max` say of a NaN: it has no place in the
/// order of numbers, so ordering it is an error, never a silent answer.
pub const NAN_UNORDERED: &str =
    "cannot order nan: it is neither less than, equal to, nor greater than any number";

/// Whether two values have no order because of a NaN (at the top or at the
/// first place their lists differ), rather than because of their types.
pub fn nan_is_why_unordered(a: &Value, b: &Value) -> bool {
    nan_at_failure(a, b, 0)
}

fn nan_at_failure(a: &Value, b: &Value, depth: usize) -> bool {
    let nan = |v: &Value| matches!(v, Value::Float(x) if x.is_nan());
    match (a, b) {
        (Value::List(x), Value::List(y)) if depth <= limits::MAX_VALUE_DEPTH => {
            let (x, y) = (x.borrow(), y.borrow());
            let failed = x
                .iter()
                .zip(y.iter())
                .find(|(p, q)| compare_at(p, q, depth + 1).is_none());
            failed.is_some_and(|(p, q)| nan_at_failure(p, q, depth + 1))
        }
        _ => {
            (nan(a) && matches!(b, Value::Int(_) | Value::Float(_)))
                || (nan(b) && matches!(a, Value::Int(_) | Value::Float(_)))
        }
    }
}

/// Order for `<` and `sort`: numbers with numbers, strings with strings,
/// lists element by element. `None` when the two cannot be compared (a NaN
/// with any number included).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    compare_at(a, b, 0)
}

fn compare_at(a: &Value, b: &Value, depth: usize) -> Option<Ordering> {
    if depth > limits::MAX_VALUE_DEPTH {
        return None;
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Some(Ordering::Equal);
            }
            let (x, y) = (x.borrow(), y.borrow());
            for (a, b) in x.iter().zip(y.iter()) {
                match compare_at(a, b, depth + 1)? {
                    Ordering::Equal => continue,
                    other => return Some(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => None,
    }
}

impl From<&Literal> for Value {
    /// The value of a constant written in the script.
    #[inline]
    fn from(literal: &Literal) -> Value {
        match literal {
            Literal::Nil => Value::Nil,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Float(x) => Value::Float(*x),
            Literal::Str(s) => Value::Str(s.clone()),
        }
    }
}
