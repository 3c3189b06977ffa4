//! In one process (the test harness runs threads, so nothing here forks):
//! positions are set by hand to put messages across the ring's end, and a
//! child started by `std::process::Command` plays a lock holder that dies.

use super::*;
use std::sync::mpsc;
use std::time::Duration;

fn no_idle() -> impl FnMut() -> Result<bool, ()> {
    || Ok(false)
}

/// An empty queue whose next message starts at byte position `pos`.
fn queue_at(pos: u64) -> Queue {
    let queue = Queue::create(0).expect("a queue");
    queue.region.u64_at(GET_END + POSITION).store(pos, SeqCst);
    queue.region.u64_at(PUT_END + POSITION).store(pos, SeqCst);
    queue
}

fn data(queue: &Queue, offset: usize, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    queue.region.read(DATA + offset, &mut bytes);
    bytes
}

#[test]
fn a_message_across_the_end_of_the_ring_comes_back_whole() {
    let ring = RING_BYTES as u64;
    let message: Vec<u8> = (1..=20).collect();
    // The length split, the length just fitting, the message split, and a later lap.
    for before_end in [2u64, 4, 7, 13] {
        for lap in [1, 3] {
            let start = lap * ring - before_end;
            let queue = queue_at(start);
            assert!(queue.put(&message, Wait::No, &mut no_idle()).unwrap());
            let mut framed = (message.len() as u32).to_le_bytes().to_vec();
            framed.extend(&message);
            let split = before_end as usize;
            assert_eq!(data(&queue, RING_BYTES - split, split), framed[..split]);
            assert_eq!(data(&queue, 0, framed.len() - split), framed[split..]);
            let got = queue.get(Wait::No, &mut no_idle()).unwrap();
            assert_eq!(
                got.as_deref(),
                Some(&message[..]),
                "from {before_end} before the end"
            );
            let end = start + framed.len() as u64;
            assert_eq!(queue.region.u64_at(GET_END + POSITION).load(SeqCst), end);
            assert_eq!(queue.region.u64_at(PUT_END + POSITION).load(SeqCst), end);
            assert_eq!(queue.size(), 0);
        }
    }
}

#[test]
fn a_message_may_fill_the_whole_ring_from_any_position() {
    let queue = queue_at(RING_BYTES as u64 - 10);
    let big: Vec<u8> = (0..QUEUE_BYTES).map(|i| (i % 251) as u8).collect();
    assert!(queue.put(&big, Wait::No, &mut no_idle()).unwrap());
    assert!(queue.is_full());
    assert!(
        !queue.put(b"x", Wait::No, &mut no_idle()).unwrap(),
        "no room left"
    );
    let got = queue
        .get(Wait::No, &mut no_idle())
        .unwrap()
        .expect("the message");
    assert!(got == big, "the message came back changed");
    assert!(!queue.is_full());
    assert!(matches!(
        queue.put(&vec![0; QUEUE_BYTES + 1], Wait::No, &mut no_idle()),
        Err(QueueError::TooLarge(_))
    ));
}

#[test]
fn a_lock_left_by_a_dead_process_is_taken_over() {
    let queue = Queue::create(0).expect("a queue");
    let mut holder = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("sleep starts");
    queue
        .region
        .u32_at(PUT_END + LOCK)
        .store(holder.id(), SeqCst);
    // The waiter maps the queue anew: a `Queue` stays on its own thread.
    let path = format!("/proc/self/fd/{}", queue.raw_fd());
    let (sent, results) = mpsc::channel();
    std::thread::spawn(move || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .expect("the queue's memory file");
        let queue = Queue::open(file.into()).expect("the same queue");
        let put = queue.put(b"after", Wait::No, &mut no_idle());
        let _ = sent.send(put.map_err(|e| format!("{e:?}")));
    });
    assert!(
        results.recv_timeout(Duration::from_millis(400)).is_err(),
        "a lock whose holder is alive was taken"
    );
    holder.kill().expect("kill the holder");
    holder.wait().expect("reap the holder");
    let put = results
        .recv_timeout(Duration::from_secs(10))
        .expect("the lock of a dead holder is taken over");
    assert_eq!(put, Ok(true));
    assert_eq!(
        queue.region.u32_at(PUT_END + LOCK).load(SeqCst),
        0,
        "and released"
    );
    let got = queue.get(Wait::No, &mut no_idle()).unwrap();
    assert_eq!(got.as_deref(), Some(&b"after"[..]));
}

/// A queue of at most `max_items` holding "a" and "b", after a process
/// holding `end`'s lock was killed at the `crash`th crash point of `op`;
/// and whether the change it was making was published by then (it must
/// then be found wholly done; else not at all).
fn after_a_death(end: usize, max_items: u64, crash: u32, op: &dyn Fn(&Queue)) -> (Queue, bool) {
    let queue = Queue::create(max_items).expect("a queue");
    for m in [b"a", b"b"] {
        assert!(queue.put(m, Wait::No, &mut no_idle()).unwrap());
    }
    let total = queue.field(end + TOTAL).load(SeqCst);
    CRASH_AFTER.with(|left| left.set(Some(crash)));
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(&queue)));
    CRASH_AFTER.with(|left| left.set(None));
    let published = queue.word(end + COMMITTED).load(SeqCst) == 1
        || queue.field(end + TOTAL).load(SeqCst) != total;
    let mut dead = std::process::Command::new("true").spawn().expect("true");
    dead.wait().expect("reap");
    queue.word(end + LOCK).store(dead.id(), SeqCst);
    (queue, published)
}

fn drain(queue: &Queue) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    while let Some(m) = queue.get(Wait::No, &mut no_idle()).unwrap() {
        got.push(m);
        assert!(got.len() <= 4, "more messages than were put");
    }
    got
}

fn messages(names: &[&[u8]]) -> Vec<Vec<u8>> {
    names.iter().map(|m| m.to_vec()).collect()
}

/// Runs `check` on a death at every crash point of `op` (and past the
/// last), which must publish the change at some and not at others.
fn at_every_crash_point(
    end: usize,
    max_items: u64,
    op: &dyn Fn(&Queue),
    check: &dyn Fn(u32, Queue, bool),
) {
    let mut outcomes = std::collections::BTreeSet::new();
    for crash in 0..8 {
        let (queue, published) = after_a_death(end, max_items, crash, op);
        outcomes.insert(published);
        check(crash, queue, published);
    }
    assert_eq!(outcomes.len(), 2, "deaths both before and after publishing");
}

fn put_c(q: &Queue) {
    q.put(b"c", Wait::No, &mut no_idle()).unwrap();
}

fn get_one(q: &Queue) {
    q.get(Wait::No, &mut no_idle()).unwrap();
}

#[test]
fn a_put_killed_anywhere_is_finished_by_the_next_putter() {
    at_every_crash_point(PUT_END, 0, &put_c, &|crash, queue, published| {
        assert!(queue.put(b"d", Wait::No, &mut no_idle()).unwrap());
        let want = match published {
            true => messages(&[b"a", b"b", b"c", b"d"]),
            false => messages(&[b"a", b"b", b"d"]),
        };
        assert_eq!(queue.size(), want.len() as u64, "crash {crash}: counted");
        assert_eq!(
            queue.unfinished(),
            want.len() as u64,
            "crash {crash}: unfinished"
        );
        assert_eq!(drain(&queue), want, "crash {crash}");
    });
}

#[test]
fn a_put_killed_anywhere_is_finished_by_a_getter_that_finds_nothing() {
    at_every_crash_point(PUT_END, 0, &put_c, &|crash, queue, published| {
        let want = match published {
            true => messages(&[b"a", b"b", b"c"]),
            false => messages(&[b"a", b"b"]),
        };
        assert_eq!(drain(&queue), want, "crash {crash}");
        // (Found the message without finishing? The next putter does.)
        assert!(queue.put(b"d", Wait::No, &mut no_idle()).unwrap());
        assert_eq!(drain(&queue), messages(&[b"d"]), "crash {crash}");
    });
}

#[test]
fn a_put_killed_anywhere_by_a_process_of_this_pid_is_finished_by_this_one() {
    // Pids are reused: a lock word holding this process's own pid, stamped
    // with another start time, was left by a dead process. It counted as held
    // by this one, so the next put skipped the dead one's change and wrote
    // over its message.
    at_every_crash_point(PUT_END, 0, &put_c, &|crash, queue, published| {
        let me = os::current_pid();
        queue.word(PUT_END + LOCK).store(me as u32, SeqCst);
        let other_start = own_identity(me) ^ 1;
        queue.field(PUT_END + LOCK_STAMP).store(other_start, SeqCst);
        assert!(queue.put(b"d", Wait::No, &mut no_idle()).unwrap());
        let want = match published {
            true => messages(&[b"a", b"b", b"c", b"d"]),
            false => messages(&[b"a", b"b", b"d"]),
        };
        assert_eq!(drain(&queue), want, "crash {crash}");
    });
}

#[test]
fn a_put_killed_anywhere_is_finished_by_a_look_for_a_message() {
    // `poll()` and `wait_any` look without getting: they said nothing waited
    // while the killed putter's message did, and a `wait_any` without a timeout
    // waited for good when no other process came to the queue.
    at_every_crash_point(PUT_END, 0, &put_c, &|crash, queue, published| {
        for m in [b"a", b"b"] {
            let got = queue.get(Wait::No, &mut no_idle()).unwrap();
            assert_eq!(got.as_deref(), Some(&m[..]), "crash {crash}");
        }
        assert_eq!(queue.message_waits(), published, "crash {crash}");
        let want = if published { messages(&[b"c"]) } else { vec![] };
        assert_eq!(drain(&queue), want, "crash {crash}");
        assert!(!queue.message_waits(), "crash {crash}: drained");
    });
}

#[test]
fn a_get_killed_anywhere_is_finished_by_the_next_getter() {
    at_every_crash_point(GET_END, 0, &get_one, &|crash, queue, published| {
        let want = match published {
            true => messages(&[b"b"]),
            false => messages(&[b"a", b"b"]),
        };
        assert_eq!(drain(&queue), want, "crash {crash}");
        assert_eq!(queue.size(), 0, "crash {crash}: counted");
        assert!(queue.put(b"d", Wait::No, &mut no_idle()).unwrap());
        assert_eq!(drain(&queue), messages(&[b"d"]), "crash {crash}");
    });
}

#[test]
fn a_get_killed_anywhere_is_finished_by_a_putter_that_finds_no_room() {
    // At most two messages: "c" fits only once the dead get is finished.
    at_every_crash_point(GET_END, 2, &get_one, &|crash, queue, published| {
        let put = queue.put(b"c", Wait::No, &mut no_idle()).unwrap();
        assert_eq!(put, published, "crash {crash}: room");
        let want = match published {
            true => messages(&[b"b", b"c"]),
            false => messages(&[b"a", b"b"]),
        };
        assert_eq!(drain(&queue), want, "crash {crash}");
    });
}

/// The queue whose memory file is at `path`, mapped anew for this thread (a
/// `Queue` stays on its own thread).
fn mapped_again(path: &str) -> Queue {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("the queue's memory file");
    Queue::open(file.into()).expect("the same queue")
}

#[test]
fn size_and_used_bytes_seen_amid_traffic_never_pass_what_the_queue_holds() {
    // The two ends' totals (and positions) are read one after the other: a
    // reader delayed between the two reads (preempted on a busy machine)
    // while messages flow must not count messages that came and went.
    let queue = Queue::create(1).expect("a queue");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut movers = Vec::new();
    let path = format!("/proc/self/fd/{}", queue.raw_fd());
    // One thread at each end: the threads share a pid, which each end's lock
    // takes for its owner, so two at one end would both take it.
    for putter in [true, false] {
        let (stop, path) = (stop.clone(), path.clone());
        movers.push(std::thread::spawn(move || {
            let queue = mapped_again(&path);
            let wait = Wait::Until(os::Deadline::after(Some(0.05)));
            while !stop.load(Relaxed) {
                let _ = match putter {
                    true => queue.put(b"m", wait, &mut no_idle()).map(|_| ()),
                    false => queue.get(wait, &mut no_idle()).map(|_| ()),
                };
            }
        }));
    }
    let started = std::time::Instant::now();
    let (mut most, mut most_used) = (0, 0);
    while started.elapsed() < Duration::from_millis(1500) {
        most = most.max(queue.size());
        most_used = most_used.max(queue.used_bytes());
    }
    stop.store(true, Relaxed);
    for mover in movers {
        mover.join().expect("a mover");
    }
    assert!(
        most <= 1,
        "a queue of at most 1 message said it held {most}"
    );
    assert!(
        most_used <= (FRAME + 1) as u64,
        "a queue of at most 1 message of 5 bytes said it used {most_used} bytes"
    );
}

/// The messages a getter takes from a closed queue until it says it is closed and empty.
fn drain_closed(queue: &Queue, wait: Wait) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    loop {
        match queue.get(wait, &mut no_idle()) {
            Ok(Some(m)) => got.push(m),
            Ok(None) => panic!("a closed queue's get came back empty-handed"),
            Err(QueueError::Closed) => return got,
            Err(e) => panic!("{e:?}"),
        }
        assert!(got.len() <= 4, "more messages than were put");
    }
}

#[test]
fn a_put_killed_anywhere_before_a_close_is_finished_by_a_getter_of_the_closed_queue() {
    for wait in [Wait::No, Wait::Forever] {
        at_every_crash_point(PUT_END, 0, &put_c, &|crash, queue, published| {
            queue.close();
            let want = match published {
                true => messages(&[b"a", b"b", b"c"]),
                false => messages(&[b"a", b"b"]),
            };
            assert_eq!(drain_closed(&queue, wait), want, "crash {crash}");
            let waits = queue.wait_message(wait, &mut no_idle());
            assert!(matches!(waits, Err(QueueError::Closed)), "crash {crash}");
        });
    }
}

#[test]
fn a_put_killed_anywhere_is_finished_by_a_get_whose_time_is_up() {
    // `q.get(0)`: its deadline has passed before its first sleep, and it
    // timed out on the message a killed putter had published.
    at_every_crash_point(PUT_END, 0, &put_c, &|crash, queue, published| {
        let mut got = Vec::new();
        let now = Wait::Until(os::Deadline::after(Some(0.0)));
        while let Ok(Some(m)) = queue.get(now, &mut no_idle()) {
            got.push(m);
            assert!(got.len() <= 3, "more messages than were put");
        }
        let want = match published {
            true => messages(&[b"a", b"b", b"c"]),
            false => messages(&[b"a", b"b"]),
        };
        assert_eq!(got, want, "crash {crash}");
    });
}
