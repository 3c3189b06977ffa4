//! The uncontended forms of the commonest calls on locks, semaphores and values (`l.acquire()`, `l.release()`, `c.add(1)`...), done on the object in place, without the general method dispatch.
//!
//! The general path (`methods::call`) clones the target, checks the arity,
//! and goes through a table and the method's wait machinery: several times
//! the cost of the atomic operation itself. Here a call whose outcome needs
//! none of that is done at once; any other (a wait, a timeout argument, an
//! error, a type to convert) answers None and goes the general way, which
//! does the whole call again from the start: none of these has changed
//! anything when it answers None.

use super::methods::id_of;
use super::sync::from_number;
use crate::process::sync::{Kind, Number, SyncObject};
use crate::values::Value;

const LOCK_ACQUIRE: u16 = id_of("lock", "acquire");
const LOCK_RELEASE: u16 = id_of("lock", "release");
const SEMAPHORE_ACQUIRE: u16 = id_of("semaphore", "acquire");
const SEMAPHORE_RELEASE: u16 = id_of("semaphore", "release");
const VALUE_GET: u16 = id_of("value", "get");
const VALUE_ADD: u16 = id_of("value", "add");

/// Method `id` (as a call site found it) on `target` with `arg` (None: no
/// argument), when it can be done at once; None sends it the general way.
#[inline(always)]
pub fn quick_sync_call(target: &Value, id: u16, arg: Option<Number>) -> Option<Value> {
    match target {
        Value::Sync(object) => quick(object, id, arg),
        // A variable that a closure captured.
        Value::Cell(cell) => match &*cell.borrow() {
            Value::Sync(object) => quick(object, id, arg),
            _ => None,
        },
        _ => None,
    }
}

#[inline(always)]
fn quick(object: &SyncObject, id: u16, arg: Option<Number>) -> Option<Value> {
    // The id names its type too: the object must be of that type (a call site
    // that saw a lock may see a value next time).
    match (object.kind(), id, arg) {
        (Kind::Lock, LOCK_ACQUIRE, None) => object.lock_try_acquire().then_some(Value::Bool(true)),
        (Kind::Lock, LOCK_RELEASE, None) => object.lock_release().ok().map(|()| Value::Nil),
        (Kind::Semaphore, SEMAPHORE_ACQUIRE, None) => {
            object.take_permit().then_some(Value::Bool(true))
        }
        (Kind::Semaphore, SEMAPHORE_RELEASE, None) => {
            object.semaphore_release().ok().map(|()| Value::Nil)
        }
        (Kind::Value, VALUE_GET, None) => Some(from_number(object.value_get())),
        (Kind::Value, VALUE_ADD, Some(n)) if matches_type(object, n) => {
            object.value_add(n).ok().map(from_number)
        }
        _ => None,
    }
}

/// Whether `n` is of the value's own type (an int added to a float value is
/// converted by the general path).
#[inline]
fn matches_type(object: &SyncObject, n: Number) -> bool {
    matches!(n, Number::Float(_)) == object.value_is_float()
}
