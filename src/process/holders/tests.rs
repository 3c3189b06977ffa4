//! A holder table: slots taken without reading /proc while some are free, and a dead holder's slot reused once none is.

use super::*;
use std::process::{Child, Command};

/// `n` live processes (sleepers, killed by `end`) and their identities.
fn sleepers(n: usize) -> (Vec<Child>, Vec<u64>) {
    let children: Vec<Child> = (0..n)
        .map(|_| Command::new("sleep").arg("30").spawn().expect("sleep"))
        .collect();
    let identities = children.iter().map(|c| identity(c.id() as i32)).collect();
    (children, identities)
}

fn end(children: Vec<Child>) {
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A holder table's region: the table, then its overflow flag.
fn region() -> SharedRegion {
    SharedRegion::create("procscript-test-holders", HOLDER_BYTES + 8).unwrap()
}

/// The table's live holders are the processes of `identities`.
fn assert_live_are(holders: &Holders, identities: &[u64]) {
    let mut pids: Vec<i32> = identities.iter().map(|&h| identity_pid(h)).collect();
    pids.sort_unstable();
    assert_eq!(holders.live(), Some(pids));
}

fn table(region: &SharedRegion) -> Holders<'_> {
    Holders::at(region, 0, HOLDER_BYTES)
}

fn looks() -> usize {
    LOOKS.with(|looks| looks.get())
}

#[test]
fn holders_take_free_slots_without_looking_at_the_others() {
    // Each holder registered looked at every one before it (a read of /proc
    // each): a parent keeping hundreds of children alive paid for each of
    // them at every spawn, for every queue it held.
    let region = region();
    let holders = table(&region);
    let (children, identities) = sleepers(20);
    let before = looks();
    for &holder in &identities {
        holders.register(holder);
        holders.register(holder); // once only
    }
    assert_eq!(looks() - before, 0, "reads of /proc to register 20 holders");
    assert_live_are(&holders, &identities);
    end(children);
}

#[test]
fn a_full_table_reuses_a_dead_holders_slot_and_keeps_the_live_ones() {
    let region = region();
    let holders = table(&region);
    let (children, identities) = sleepers(3);
    let (live, newcomer) = (&identities[..2], identities[2]);
    for &holder in live {
        holders.register(holder);
    }
    // The rest of the table: processes that ended (pid 1 with another start time).
    let dead = |i: u64| (1 << START_BITS) | (i + 1_000_000);
    for i in 0..(HOLDER_SLOTS - live.len()) as u64 {
        holders.register(dead(i));
    }
    holders.register(newcomer);
    assert_eq!(region.u32_at(HOLDER_BYTES).load(SeqCst), 0, "not untracked");
    assert_live_are(&holders, &identities);
    end(children);
}

#[test]
fn a_holder_registered_twice_at_once_keeps_its_earlier_slot_only() {
    // The parent registering its new child and the child registering itself
    // may each find it absent and take a slot: the later one is given back.
    let region = region();
    let holders = table(&region);
    let me = own_identity(os::current_pid());
    for (slot, who) in [(3, me), (7, me), (9, me ^ 1)] {
        holders.slot(slot).store(who, SeqCst);
    }
    holders.give_back_if_twice(7, me);
    holders.give_back_if_twice(3, me);
    holders.give_back_if_twice(9, me ^ 1);
    let held: Vec<(usize, u64)> = (0..HOLDER_SLOTS)
        .map(|i| (i, holders.slot(i).load(SeqCst)))
        .filter(|&(_, who)| who != 0)
        .collect();
    assert_eq!(held, vec![(3, me), (9, me ^ 1)]);
}
