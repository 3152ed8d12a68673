//! CloudTrail history through the API for a live session: LookupEvents in every profile × region
//! of the session, page by page, each source under its own rate (two requests per second per
//! account and region, kept by a token bucket). Used by the console's executor (pages become
//! `Msg::Lookup`s) and by `vigil pivot --live`.

use super::live::{LiveError, Poller};
use crate::aws::{AwsOptions, AwsReader};
use crate::pivot::Window;
use crate::pivot::lookup::{LookupAttr, TokenBucket};
use std::time::Instant;

/// A run stops after this many pages per source (10 000 events): a principal that busy is
/// better asked with a narrower scope, and the trail says so.
pub const MAX_PAGES: u32 = 200;

struct Source {
    label: String,
    reader: AwsReader,
    bucket: TokenBucket,
}

/// What a run reports, source by source.
#[derive(Debug)]
pub enum HistoryEvent {
    /// One page: the API's response body, as sent.
    Page {
        source: String,
        page: u32,
        body: Vec<u8>,
    },
    SourceDone {
        source: String,
        pages: u32,
        capped: bool,
    },
    Failed {
        source: String,
        reason: String,
    },
}

/// The LookupEvents sources of a session.
pub struct History {
    sources: Vec<Source>,
    /// The buckets' clock.
    epoch: Instant,
    /// API calls made, for the CLI's summary and the tests.
    pub calls: usize,
}

impl History {
    /// Connects one reader per `(label, options)` (credentials were checked by the caller).
    pub fn connect(targets: &[(String, AwsOptions)]) -> Result<History, LiveError> {
        let mut sources = Vec::new();
        for (label, opts) in targets {
            let reader =
                crate::aws::connect_read_only(opts).map_err(|source| LiveError::Connect {
                    target: label.clone(),
                    source,
                })?;
            sources.push(Source {
                label: label.clone(),
                reader,
                bucket: TokenBucket::lookup_events(),
            });
        }
        Ok(History {
            sources,
            epoch: Instant::now(),
            calls: 0,
        })
    }

    /// The sources of a live session's poller: the same profiles × regions.
    pub fn for_poller(p: &Poller) -> Result<History, LiveError> {
        History::connect(&p.sources())
    }

    /// Asks every source for `attr` within `window`, page by page until the last page or
    /// [`MAX_PAGES`], waiting on each source's bucket; `go_on` is asked before every call (a
    /// cancelled run stops there). A source that fails is reported and the others go on.
    pub fn fetch(
        &mut self,
        attr: &LookupAttr,
        window: Window,
        go_on: &dyn Fn() -> bool,
        on: &mut dyn FnMut(HistoryEvent),
    ) {
        for src in &mut self.sources {
            let mut token = None;
            let mut page = 0;
            loop {
                if !go_on() {
                    return;
                }
                let wait = src.bucket.reserve(self.epoch.elapsed());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
                self.calls += 1;
                match src.reader.lookup_page(attr, window, token.take()) {
                    Ok(p) => {
                        page += 1;
                        on(HistoryEvent::Page {
                            source: src.label.clone(),
                            page,
                            body: p.body,
                        });
                        match p.next_token {
                            Some(t) if page < MAX_PAGES => token = Some(t),
                            next => {
                                on(HistoryEvent::SourceDone {
                                    source: src.label.clone(),
                                    pages: page,
                                    capped: next.is_some(),
                                });
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        on(HistoryEvent::Failed {
                            source: src.label.clone(),
                            reason: e.plain(),
                        });
                        break;
                    }
                }
            }
        }
    }
}
