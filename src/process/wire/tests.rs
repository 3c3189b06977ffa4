//! Unit tests of the wire format: round trips, hand-written tags, and hostile bytes refused.

use super::*;

fn nested_lists(depth: usize) -> Vec<u8> {
    // A list is its tag, then the item count; the innermost list is empty.
    let list = tag::LIST as u8;
    let mut bytes = Vec::new();
    for _ in 0..depth {
        bytes.extend([list, 1]);
    }
    bytes.extend([list, 0]);
    bytes
}

#[test]
fn plain_values_round_trip() {
    let mut map = Entries::default();
    map.insert(
        "k".into(),
        Value::list(vec![Value::Int(-3), Value::Float(2.5), Value::Nil]),
    );
    map.insert("s".into(), Value::str("héllo"));
    let v = Value::map(map);
    let bytes = encode_message(&v).unwrap();
    assert!(crate::values::equals(&decode_message(&bytes).unwrap(), &v));
}

#[test]
fn deep_hostile_messages_are_refused_not_a_crash() {
    assert!(decode_message(&nested_lists(500)).is_some());
    // A million levels would overflow the decoder's stack.
    assert!(decode_message(&nested_lists(1_000_000)).is_none());
    let mut report = vec![0];
    report.extend(nested_lists(1_000_000));
    assert!(matches!(decode_report(&report), Report::Missing));
}

#[test]
fn damaged_messages_are_refused() {
    for bytes in [&[][..], &[9], &[4, 200], &[5, 3, 0], &[6, 1, 1]] {
        assert!(decode_message(bytes).is_none(), "{bytes:?}");
    }
}

/// One value of every variant, with fields that take more than one byte.
fn one_of_each() -> Vec<Wire> {
    vec![
        Wire::Nil,
        Wire::Bool(true),
        Wire::Int(-300),
        Wire::Float(2.5),
        Wire::Str("héllo".into()),
        Wire::List(vec![Wire::Int(1), Wire::Nil]),
        Wire::Map(vec![("k".into(), Wire::Str("v".into()))]),
        Wire::Func(300),
        Wire::Builtin(200),
        Wire::Queue(3),
        Wire::Host(70_000),
        Wire::Sync(5),
        Wire::Held(300),
        Wire::Pipe(3 << 16 | 4),
        Wire::Relayed(2 << 3 | 1),
    ]
}

/// The hand-written tag of each variant. No wildcard: a new variant does
/// not compile until it has a tag here (and in `one_of_each`).
fn tag_of(wire: &Wire) -> u64 {
    match wire {
        Wire::Nil => tag::NIL,
        Wire::Bool(_) => tag::BOOL,
        Wire::Int(_) => tag::INT,
        Wire::Float(_) => tag::FLOAT,
        Wire::Str(_) => tag::STR,
        Wire::List(_) => tag::LIST,
        Wire::Map(_) => tag::MAP,
        Wire::Func(_) => tag::FUNC,
        Wire::Builtin(_) => tag::BUILTIN,
        Wire::Queue(_) => tag::QUEUE,
        Wire::Host(_) => tag::HOST,
        Wire::Sync(_) => tag::SYNC,
        Wire::Held(_) => tag::HELD,
        Wire::Pipe(_) => tag::PIPE,
        Wire::Relayed(_) => tag::RELAYED,
    }
}

#[test]
fn each_hand_written_tag_is_what_postcard_writes() {
    let samples = one_of_each();
    for (i, wire) in samples.iter().enumerate() {
        let bytes = postcard::to_allocvec(wire).unwrap();
        assert_eq!(varint(&bytes, 0).unwrap().0, tag_of(wire), "{wire:?}");
        assert_eq!(tag_of(wire), i as u64, "one sample per variant, in order");
    }
    let returned = postcard::to_allocvec(&ChildReport::Returned(Wire::Nil)).unwrap();
    assert_eq!(returned[0], tag::RETURNED);
}

#[test]
fn the_depth_check_reads_past_every_variant() {
    // [sample, deeply nested]: only a check that skipped the sample's
    // fields exactly reaches the nesting behind it.
    for sample in one_of_each() {
        let mut bytes = vec![tag::LIST as u8, 2];
        bytes.extend(postcard::to_allocvec(&sample).unwrap());
        let deep_at = bytes.len();
        bytes.extend(nested_lists(limits::MAX_VALUE_DEPTH + 1));
        assert!(!shallow_enough(&bytes, 0), "{sample:?}");
        bytes.truncate(deep_at);
        bytes.extend(nested_lists(3));
        assert!(shallow_enough(&bytes, 0), "{sample:?}");
        assert!(postcard::from_bytes::<Wire>(&bytes).is_ok(), "{sample:?}");
    }
}

#[test]
fn every_variant_round_trips() {
    for sample in one_of_each() {
        let bytes = postcard::to_allocvec(&sample).unwrap();
        assert_eq!(postcard::from_bytes::<Wire>(&bytes).unwrap(), sample);
    }
}

#[test]
fn messages_and_results_carry_plain_data_only() {
    // Built-in 0 exists: even a valid index is refused outside a task.
    for sample in one_of_each().into_iter().chain([Wire::Builtin(0)]) {
        let rich = tag_of(&sample) > tag::MAP;
        let bytes = postcard::to_allocvec(&sample).unwrap();
        assert_eq!(decode_message(&bytes).is_none(), rich, "{sample:?}");
        let report = postcard::to_allocvec(&ChildReport::Returned(sample)).unwrap();
        assert_eq!(matches!(decode_report(&report), Report::Missing), rich);
    }
    let not_sendable = encode_message(&Value::Builtin(0)).expect_err("refused");
    assert_eq!(
        not_sendable.message(),
        "a function cannot be sent to another process"
    );
}

#[test]
fn a_forged_failure_report_is_refused_without_recursing() {
    use crate::front::ast::Span;
    // A cause chain far deeper than any sender makes, sent flat.
    let level = Diag::new("boom", Span::new(1, 2), "here");
    let deep = postcard::to_allocvec(&ChildReport::Failed(vec![level.clone(); 100_000])).unwrap();
    assert!(matches!(decode_report(&deep), Report::Missing));
    // A chain 100,000 deep as a recursive encoding wrote it (`cause`, the
    // last field, `Some` and the next level): it overflowed the stack.
    let one = postcard::to_allocvec(&level).unwrap();
    let mut forged = vec![1u8];
    for _ in 0..100_000 {
        forged.extend_from_slice(&one);
        forged.push(1);
    }
    forged.extend_from_slice(&one);
    forged.push(0);
    if let Report::Failed(diag) = decode_report(&forged) {
        assert!(diag.cause.is_none());
    }
}

#[test]
fn a_failure_crosses_whole_with_its_causes() {
    use crate::error::diagnostic::Frame;
    use crate::front::ast::Span;
    let mut inner = Diag::new(
        "division by zero",
        Span::new(20, 25),
        "the right side is zero",
    );
    inner.trace.push(Frame {
        function: "`bad`".into(),
        call_site: Span::new(40, 45),
    });
    inner.context = Some("process 12 (worker)".into());
    let mut outer = Diag::new("`worker` (pid 12) failed", Span::new(50, 56), "joined here")
        .with_help("a help line");
    outer.cause = Some(inner);
    match decode_report(&encode_failed(&outer)) {
        Report::Failed(diag) => {
            assert_eq!(diag, outer);
            assert_eq!(diag.innermost().message, "division by zero");
        }
        _ => panic!("the failure did not come back"),
    }
}
