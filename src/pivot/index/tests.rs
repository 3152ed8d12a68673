use super::*;
use crate::ingest;
use crate::pivot::window::Window;
use std::path::Path;

/// Records at the same second whose ids are UUIDs (lower and upper case) and other text, so
/// the order of keys must be the order of the text.
fn events() -> Vec<TrailEvent> {
    let ids = [
        "f0000000-0000-4000-8000-000000000000",
        "0aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        "0AAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEF",
        "0aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee9",
        "abc",
        "0aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee-x",
        "zzz",
    ];
    let records: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                r#"{{"eventVersion":"1.08","eventTime":"2026-01-0{}T00:00:00Z","eventID":"{id}","eventName":"GetObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}"}}}}"#,
                1 + i % 2,
                i % 3
            )
        })
        .collect();
    let body = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    ingest::load_bytes(Path::new("t.json"), body.into_bytes()).events
}

fn ids(ix: &TrailIndex) -> Vec<String> {
    (0..ix.len() as u32)
        .map(|i| ix.event_id(ix.row(i).unwrap()))
        .collect()
}

#[test]
fn rows_are_in_time_then_id_text_order_whatever_the_id_shape() {
    let evs = events();
    let mut ix = TrailIndex::new();
    for e in evs.iter().rev() {
        ix.add_ref(e);
    }
    ix.finish();
    let mut want: Vec<(Ts, String)> = evs.iter().map(|e| (e.time, e.event_id.clone())).collect();
    want.sort();
    assert_eq!(ids(&ix), want.into_iter().map(|w| w.1).collect::<Vec<_>>());
    for e in &evs {
        assert!(ix.has_event(e.time, &e.event_id), "{}", e.event_id);
    }
    assert!(!ix.has_event(evs[0].time, "0aaaaaaa-bbbb-4ccc-8ddd-000000000000"));
    assert!(!ix.has_event(evs[0].time, "never-seen"));
}

#[test]
fn parts_appended_in_any_order_make_the_same_index() {
    let evs = events();
    let mut whole = TrailIndex::new();
    for e in &evs {
        whole.add_ref(e);
    }
    whole.finish();
    // Parts numbered as the joined index is (a load's), by themselves, and one finished
    // before it is joined.
    for shared in [true, false] {
        let mut joined = TrailIndex::new();
        for (n, chunk) in evs.chunks(3).rev().enumerate() {
            let mut part = if shared {
                joined.part()
            } else {
                TrailIndex::new()
            };
            // One event at a time, or a part's events at once.
            if n % 2 == 0 {
                part.add_all(chunk);
            } else {
                for e in chunk {
                    part.add_ref(e);
                }
            }
            if n == 1 {
                part.finish();
            }
            joined.append(part);
        }
        joined.finish();
        same_index(&joined, &whole);
    }
}

fn same_index(joined: &TrailIndex, whole: &TrailIndex) {
    assert_eq!(ids(joined), ids(whole));
    let mut a: Vec<&EntityId> = joined.entities().collect();
    let mut b: Vec<&EntityId> = whole.entities().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    for i in 0..whole.len() as u32 {
        assert_eq!(joined.entities_of(i), whole.entities_of(i));
        let (x, y) = (joined.row(i).unwrap(), whole.row(i).unwrap());
        for (p, q) in [
            (x.name, y.name),
            (x.source, y.source),
            (x.principal, y.principal),
            (x.source_ip, y.source_ip),
            (x.user_agent, y.user_agent),
            (x.error, y.error),
            (x.region, y.region),
        ] {
            assert_eq!(joined.str(p), whole.str(q));
        }
    }
    for e in whole.entities() {
        assert_eq!(joined.count(e), whole.count(e), "{e}");
        let a: Vec<String> = whole
            .pivot(e, Window::all())
            .iter()
            .map(|r| whole.event_id(whole.row(*r).unwrap()))
            .collect();
        let b: Vec<String> = joined
            .pivot(e, Window::all())
            .iter()
            .map(|r| joined.event_id(joined.row(*r).unwrap()))
            .collect();
        assert_eq!(a, b, "{e}");
    }
    // Raw records still point at their own text.
    for i in 0..joined.len() as u32 {
        let row = joined.row(i).unwrap();
        let text = joined.raw(row).text().unwrap_or_default();
        assert!(text.contains(&joined.event_id(row)), "{text}");
    }
}

#[test]
fn strings_read_the_same_before_and_after_finish() {
    let evs = events();
    let mut ix = TrailIndex::new();
    let texts = |ix: &TrailIndex| {
        let mut v: Vec<(String, String)> = (0..ix.len() as u32)
            .map(|i| {
                let row = ix.row(i).unwrap();
                (ix.event_id(row), ix.str(row.principal).to_string())
            })
            .collect();
        v.sort();
        v
    };
    for e in &evs {
        ix.add_ref(e);
    }
    let before = texts(&ix);
    assert!(before.iter().any(|(_, p)| p.contains(":user/u1")));
    ix.finish();
    assert_eq!(texts(&ix), before);
    // Strings numbered after the index was finished (by a part sharing its symbols) read
    // too, before it is finished again.
    let mut part = ix.part();
    part.add_ref(&evs[0]);
    part.symbols.string("only-in-the-part");
    let sym = part.symbols.find_string("only-in-the-part").unwrap();
    assert_eq!(ix.str(sym), "only-in-the-part");
}

/// A load's consumer finishes segments while the global pool's threads wait for it (each
/// blocked handing over its next part): the 1M-event console load hung so.
#[test]
fn finish_does_not_wait_for_a_busy_global_pool() {
    let evs = events();
    let mut ix = TrailIndex::new();
    // Enough rows for the sort to split its work across threads.
    for _ in 0..3000 {
        for e in &evs {
            ix.add_ref(e);
        }
    }
    let n = rayon::current_num_threads();
    let (started_tx, started) = std::sync::mpsc::channel::<()>();
    let (held_tx, held) = std::sync::mpsc::sync_channel::<()>(0);
    for _ in 0..n {
        let (started_tx, held_tx) = (started_tx.clone(), held_tx.clone());
        rayon::spawn(move || {
            let _ = started_tx.send(());
            let _ = held_tx.send(());
        });
    }
    for _ in 0..n {
        started.recv().unwrap();
    }
    let (done_tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        ix.finish();
        let _ = done_tx.send(ix.len());
    });
    let finished = done.recv_timeout(std::time::Duration::from_secs(60));
    // Let the pool go whatever happened.
    for _ in 0..n {
        held.recv().unwrap();
    }
    assert_eq!(finished, Ok(21_000));
}
