use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn generations(names: &[&str]) -> Generations {
    parse_names(names.iter().copied())
}

#[test]
fn names_read_as_generations_renewals_and_releases() {
    let found = generations(&[
        "00000000000000000001.json",
        "00000000000000000001.renew-0000000003.json",
        "00000000000000000001.renew-0000000002.json",
        "00000000000000000001.released.json",
        "00000000000000000002.json",
        "00000000000000000002.renew-0000000007.json",
        "notes.txt",
        "x.json",
        "00000000000000000002.renew-x.json",
    ]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[&1],
        Generation {
            created: true,
            renewals: 3,
            released: true
        }
    );
    assert_eq!(
        found[&2],
        Generation {
            created: true,
            renewals: 7,
            released: false
        }
    );
}

#[test]
fn the_newest_generation_alone_decides_who_holds_the_lock() {
    assert_eq!(newest(&generations(&[])), Newest::Free { next: 1 });
    // An older unreleased generation was taken over: only the newest counts.
    let released = generations(&[
        "00000000000000000004.json",
        "00000000000000000005.json",
        "00000000000000000005.released.json",
    ]);
    assert_eq!(newest(&released), Newest::Free { next: 6 });
    let taken = generations(&[
        "00000000000000000005.json",
        "00000000000000000005.released.json",
        "00000000000000000006.json",
        "00000000000000000006.renew-0000000002.json",
    ]);
    assert_eq!(
        newest(&taken),
        Newest::Taken {
            generation: 6,
            renewals: 2
        }
    );
    // A renewal seen before its generation's object (a listing of a half-written acquisition)
    // still makes the generation taken.
    let bare = generations(&["00000000000000000009.renew-0000000001.json"]);
    assert_eq!(
        newest(&bare),
        Newest::Taken {
            generation: 9,
            renewals: 1
        }
    );
}

#[test]
fn a_holder_is_dead_only_after_a_whole_lease_without_a_renewal_on_the_watchers_clock() {
    let lease = Duration::from_secs(120);
    let start = Instant::now();
    let seen = Newest::Taken {
        generation: 3,
        renewals: 10,
    };
    let watch = Watch::new(seen, start, lease);
    assert_eq!(watch.judge(seen, start), Verdict::Waiting);
    assert_eq!(
        watch.judge(seen, start + lease - Duration::from_millis(1)),
        Verdict::Waiting
    );
    assert_eq!(watch.judge(seen, start + lease), Verdict::Dead);
    // A renewal, however late, proves the holder alive.
    let renewed = Newest::Taken {
        generation: 3,
        renewals: 11,
    };
    assert_eq!(watch.judge(renewed, start + lease * 10), Verdict::Alive);
    // Another run took it over meanwhile: that one is alive.
    let newer = Newest::Taken {
        generation: 4,
        renewals: 0,
    };
    assert_eq!(watch.judge(newer, start + lease * 10), Verdict::Alive);
    // Released: the lock is free.
    assert_eq!(watch.judge(Newest::Free { next: 4 }, start), Verdict::Free);
}

fn fence_at(start: Instant, lease: Duration) -> Fence {
    Fence::new(7, "_lock/p/00000000000000000007.json".into(), lease, start)
}

#[test]
fn a_holder_stops_acting_before_its_lease_ends_unless_it_renews() {
    let lease = Duration::from_secs(120);
    let start = Instant::now();
    let fence = fence_at(start, lease);
    assert_eq!(fence.generation(), 7);
    assert!(fence.check_at(start).is_ok());
    // A contender takes over once a whole lease passed without a renewal: the holder must
    // have stopped by then, with room to spare.
    match fence.check_at(start + lease - Duration::from_secs(1)) {
        Err(Error::LockLost {
            how: LockLoss::LeaseRanOut { lease_secs: 120 },
            ..
        }) => {}
        other => panic!("expected the lease to have run out, got {other:?}"),
    }
    // A renewal that started half a lease in keeps it acting past the first lease.
    fence.renewed(start + lease / 2);
    assert!(fence.check_at(start + lease).is_ok());
    assert!(
        fence
            .check_at(start + lease / 2 + lease - Duration::from_secs(1))
            .is_err()
    );
    // An older renewal finishing late never shortens the window.
    fence.renewed(start);
    assert!(fence.check_at(start + lease).is_ok());
}

#[test]
fn a_lost_lock_stays_lost_whatever_renews_later() {
    let lease = Duration::from_secs(120);
    let start = Instant::now();
    let fence = fence_at(start, lease);
    fence.lose(LockLoss::TakenOver {
        by: "run b".into(),
        generation: 8,
    });
    fence.renewed(start + lease);
    match fence.check_at(start) {
        Err(Error::LockLost {
            how: LockLoss::TakenOver { generation: 8, .. },
            path,
        }) => assert_eq!(path, "_lock/p/00000000000000000007.json"),
        other => panic!("expected the lock taken over, got {other:?}"),
    }
}

#[test]
fn a_process_start_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
    // /proc/<pid>/stat of a process named "a) (b", started 123456 ticks after boot.
    let stat = "42 (a) (b) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
    assert_eq!(parse_start_ticks(stat), Some(123456));
    assert_eq!(parse_start_ticks("42 (x) S 1"), None);
}

fn holder(pid: u32, process: Option<ProcessId>) -> Holder {
    Holder {
        generation: 1,
        run_id: "r".into(),
        host: "h".into(),
        pid,
        started_at: DateTime::UNIX_EPOCH,
        lease_secs: 120,
        process,
    }
}

#[test]
fn only_a_holder_in_this_process_namespace_can_be_seen_to_be_gone() {
    let Some(ours) = this_process() else {
        return; // not Linux: the shortcut never applies
    };
    // This very process: alive.
    assert!(!process_is_gone(&holder(
        std::process::id(),
        Some(ours.clone())
    )));
    // Our pid, but a process that started at another time: the pid was reused.
    let reused = ProcessId {
        start_ticks: ours.start_ticks + 1,
        ..ours.clone()
    };
    assert!(process_is_gone(&holder(std::process::id(), Some(reused))));
    // A pid no process of this namespace has (pid_max is at most 2^22).
    assert!(process_is_gone(&holder(1 << 23, Some(ours.clone()))));
    // Another pid namespace (another container) or another kernel: never judged from here.
    let elsewhere = ProcessId {
        pid_namespace: "pid:[1]".into(),
        ..ours.clone()
    };
    assert!(!process_is_gone(&holder(1 << 23, Some(elsewhere))));
    let other_boot = ProcessId {
        boot_id: "another-boot".into(),
        ..ours
    };
    assert!(!process_is_gone(&holder(1 << 23, Some(other_boot))));
    assert!(!process_is_gone(&holder(1 << 23, None)));
}
