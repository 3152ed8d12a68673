use super::status::info;
use crate::app::keymap::Command;
use crate::app::state::*;
use crate::graph::groups;
use crate::model::{Finding, SeverityLabel, Ts};

const SPARK_BUCKETS: usize = 24;

pub(crate) fn add_findings(s: &mut State, batch: Vec<Finding>) {
    if batch.is_empty() {
        return;
    }
    // The first batch of a file load is the starting point, not news.
    // (A live session's first poll is where it starts, like a file load.)
    // So are findings a file load finds among its evidence while it is still reading.
    let loading =
        matches!(s.opts.mode, Mode::Files) && matches!(s.index_state, IndexState::Loading(_));
    let news =
        !(loading || s.findings.is_empty() && matches!(s.opts.mode, Mode::Files | Mode::Live));
    let mut added = 0usize;
    for f in batch {
        // Detections the hunt derived from loaded files are part of the load, not news (and
        // they arrive whenever the hunt ends: no status line of theirs overwrites the user's).
        let news = news
            && !f
                .finding_type
                .starts_with(crate::model::detection::HUNT_TYPE_PREFIX);
        if let Some(&i) = s.by_id.get(&f.id) {
            // An update of a finding we have (a poller re-reading it): replace in place.
            let newer = f.updated_at >= s.findings[i].updated_at;
            if newer {
                s.findings[i] = f;
                s.unseen[i] = news;
            }
            continue;
        }
        let i = s.findings.len();
        s.by_id.insert(f.id.clone(), i);
        s.findings.push(f);
        s.unseen.push(news);
        added += usize::from(news);
    }
    // Keep the graph in step (the indexer replaces it with a fuller one later).
    for f in &s.findings[s.graph_findings..] {
        s.graph.add_finding(f);
    }
    s.graph_findings = s.findings.len();
    s.groups = groups::compute(&s.findings);
    let gi = groups::index(&s.groups);
    s.group_of = s
        .findings
        .iter()
        .map(|f| gi.get(f.id.as_str()).map_or(0, |g| *g as u32))
        .collect();
    recompute_summary(s);
    recompute_list(s);
    if added > 0 {
        info(s, format!("{added} new finding(s)"));
    }
}

pub(crate) fn recompute_summary(s: &mut State) {
    let mut counts = [0usize; 4];
    let mut times: Vec<i64> = Vec::new();
    for f in s.findings.iter().filter(|f| !f.archived) {
        let slot = match f.label() {
            SeverityLabel::Critical => 0,
            SeverityLabel::High => 1,
            SeverityLabel::Medium => 2,
            SeverityLabel::Low => 3,
        };
        counts[slot] += 1;
        if let Some(t) = f.time() {
            times.push(t.0);
        }
    }
    let mut spark = vec![0u64; SPARK_BUCKETS];
    if let (Some(lo), Some(hi)) = (times.iter().min(), times.iter().max()) {
        let span = (hi - lo).max(1);
        for t in &times {
            let b = ((t - lo) as i128 * (SPARK_BUCKETS as i128 - 1) / span as i128) as usize;
            spark[b.min(SPARK_BUCKETS - 1)] += 1;
        }
    }
    let mut accounts: Vec<String> = s
        .findings
        .iter()
        .filter_map(|f| f.account_id.clone())
        .collect();
    accounts.sort();
    accounts.dedup();
    let mut regions: Vec<String> = s.findings.iter().filter_map(|f| f.region.clone()).collect();
    regions.sort();
    regions.dedup();
    s.summary = Summary {
        counts,
        spark,
        accounts,
        regions,
    };
}

pub(crate) fn finding_matches(s: &State, i: usize, needle: &str) -> bool {
    let f = &s.findings[i];
    if f.archived && !s.list.show_archived {
        return false;
    }
    if let Some(min) = s.list.min_severity
        && f.label() < min
    {
        return false;
    }
    if let Some(g) = &s.list.group_only
        && s.group_id_of(i) != Some(g.as_str())
    {
        return false;
    }
    if needle.is_empty() {
        return true;
    }
    let hay = [
        f.finding_type.as_str(),
        f.title.as_str(),
        f.resource.as_str(),
        f.id.as_str(),
        f.account_id.as_deref().unwrap_or(""),
        f.region.as_deref().unwrap_or(""),
        s.group_id_of(i).unwrap_or(""),
    ];
    hay.iter().any(|h| h.to_lowercase().contains(needle))
}

pub fn recompute_list(s: &mut State) {
    let keep = s.list.rows.get(s.list.selected).copied();
    let needle = s.list.filter.to_lowercase();
    let mut idx: Vec<u32> = (0..s.findings.len())
        .filter(|i| finding_matches(s, *i, &needle))
        .map(|i| i as u32)
        .collect();
    let fs = &s.findings;
    let time = |i: u32| fs[i as usize].time().unwrap_or(Ts(i64::MIN));
    match s.list.sort {
        SortKey::Severity => idx.sort_by(|a, b| {
            let (x, y) = (&fs[*a as usize], &fs[*b as usize]);
            y.severity
                .total_cmp(&x.severity)
                .then(time(*b).cmp(&time(*a)))
                .then(x.id.cmp(&y.id))
        }),
        SortKey::Time => idx.sort_by(|a, b| {
            time(*b)
                .cmp(&time(*a))
                .then(fs[*a as usize].id.cmp(&fs[*b as usize].id))
        }),
        SortKey::Type => idx.sort_by(|a, b| {
            let (x, y) = (&fs[*a as usize], &fs[*b as usize]);
            x.finding_type
                .cmp(&y.finding_type)
                .then(y.severity.total_cmp(&x.severity))
                .then(x.id.cmp(&y.id))
        }),
    }
    let rows: Vec<ListRow> = if s.list.group_view {
        let mut per: Vec<Vec<u32>> = vec![Vec::new(); s.groups.len()];
        for i in idx {
            if let Some(g) = s.group_of.get(i as usize) {
                per[*g as usize].push(i);
            }
        }
        per.into_iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty())
            .flat_map(|(g, m)| {
                std::iter::once(ListRow::Group(g as u32)).chain(m.into_iter().map(ListRow::Finding))
            })
            .collect()
    } else {
        idx.into_iter().map(ListRow::Finding).collect()
    };
    // On the top row the cursor follows the top (the most severe finding as they stream in);
    // once the operator has moved it, it stays on the finding they chose.
    s.list.selected = if s.list.selected == 0 {
        0
    } else {
        keep.and_then(|k| rows.iter().position(|r| *r == k))
            .unwrap_or_else(|| s.list.selected.min(rows.len().saturating_sub(1)))
    };
    s.list.rows = rows;
}

pub(crate) fn mark_seen(s: &mut State, i: usize) {
    if let Some(u) = s.unseen.get_mut(i) {
        *u = false;
    }
}

pub(crate) fn step(cur: usize, len: usize, c: Command, page: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let last = len - 1;
    match c {
        Command::Up => cur.saturating_sub(1),
        Command::Down => (cur + 1).min(last),
        Command::PageUp => cur.saturating_sub(page),
        Command::PageDown => (cur + page).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        _ => cur.min(last),
    }
}

pub(crate) fn move_cursor(s: &mut State, c: Command) {
    let page = s.page();
    match s.stack.last_mut() {
        None => {
            s.list.selected = step(s.list.selected, s.list.rows.len(), c, page);
            if let Some(i) = s.selected_finding() {
                mark_seen(s, i);
            }
        }
        Some(View::Detail(d)) => match c {
            Command::PageUp | Command::PageDown => {
                d.show_raw = true;
                d.raw_scroll = step(d.raw_scroll, d.raw_lines.len(), c, page / 2);
            }
            _ => d.selected = step(d.selected, d.entities.len(), c, page),
        },
        Some(View::Graph(g)) => g.selected = step(g.selected, g.rows.len(), c, page),
        Some(View::Profile(p)) => p.scroll = step(p.scroll, 200, c, page),
        Some(View::Trail(t)) => t.selected = step(t.selected, t.rows.len(), c, page),
        Some(View::Event(e)) => match c {
            Command::PageUp | Command::PageDown => {
                let n = e
                    .raw
                    .as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map_or(0, Vec::len);
                e.raw_scroll = step(e.raw_scroll, n, c, page / 2);
            }
            _ => e.selected = step(e.selected, e.entities.len(), c, page),
        },
        Some(View::Help(h)) => h.scroll = step(h.scroll, 200, c, page),
        Some(View::Confirm(cv)) => cv.scroll = step(cv.scroll, 200, c, page),
        Some(View::Actions(a)) => match c {
            Command::PageUp | Command::PageDown => {
                a.scroll = step(a.scroll, s.actions.log.len(), c, page / 2)
            }
            _ => a.selected = step(a.selected, s.actions.jobs.len(), c, page),
        },
        Some(View::World(w)) => w.scroll = step(w.scroll, 500, c, page),
        Some(View::Objectives { scroll }) => *scroll = step(*scroll, 200, c, page),
        Some(View::Detective(d)) => {
            let n = d
                .report
                .as_ref()
                .and_then(|r| r.as_ref().ok())
                .map_or(0, |r| r.indicators.len());
            d.selected = step(d.selected, n, c, page);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Screens
