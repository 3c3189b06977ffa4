//! Pipes between processes, run through the binary: whole messages under many senders,
//! the other end closed by a holder's death, pipe ends in pool tasks. Nothing may be left running.

mod common;

use common::run_code;

#[test]
fn many_senders_on_one_end_deliver_every_message_whole() {
    // Four processes send on the same end at once, messages up to 200 kB:
    // every one arrives once and whole, each sender's in its order.
    let out = run_code(
        "let ends = pipe()\n\
         fn sender(k) { for i in 0..300 { ends[0].send([k, i, \"x\" * ((i * 677) % 200000)]) } }\n\
         let hs = []\n\
         for k in 0..4 { push(hs, spawn sender(k)) }\n\
         let next = [0, 0, 0, 0]\n\
         let bad = 0\n\
         for n in 0..1200 {\n\
             let m = ends[1].recv()\n\
             if m[1] != next[m[0]] or len(m[2]) != (m[1] * 677) % 200000 { bad += 1 }\n\
             next[m[0]] = m[1] + 1\n\
         }\n\
         join hs\n\
         print(next, bad, ends[1].poll())",
    );
    assert_eq!(
        out.stdout, "[300, 300, 300, 300] 0 false\n",
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 0);
}

#[test]
fn recv_fails_once_every_other_holder_is_killed_while_it_waits() {
    // A holder that never sends is killed with SIGKILL by a sibling while
    // main waits in recv: main's recv ends with "the other end is closed".
    let out = run_code(
        "let ends = pipe()\n\
         let sleeper = spawn fn() { sleep(100) }()\n\
         let killer = spawn fn() { sleep(0.3)\n run(\"kill\", \"-KILL\", str(sleeper.pid)) }()\n\
         try { ends[1].recv() } catch e { print(e) }\n\
         try { join sleeper } catch e { print(\"sleeper killed\") }\n\
         join killer",
    );
    assert_eq!(
        out.stdout,
        "e.recv(): the other end is closed: nothing was sent and no other process that holds the pipe is still running\nsleeper killed\n",
        "{}",
        out.stderr
    );
}

#[test]
fn messages_sent_before_the_sender_died_are_received_first() {
    let out = run_code(
        "let ends = pipe()\n\
         let h = spawn fn() { for i in 0..3 { ends[0].send(i) } }()\n\
         join h\n\
         let got = []\n\
         while true { try { push(got, ends[1].recv()) } catch e { break } }\n\
         print(got)",
    );
    assert_eq!(out.stdout, "[0, 1, 2]\n", "{}", out.stderr);
}
