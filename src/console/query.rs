//! The SQL engines of CloudTrail history — CloudTrail Lake and Athena — run one way for every
//! caller: a query started, followed until it ends (cancelled when the caller says so), its rows
//! handed on page by page as cells named by column. `vigil pivot --lake/--athena` and `vigil
//! flows` use it from the command line; a live console's trail asks it instead of LookupEvents
//! ([`QueryEngine::run`]: the rows rebuilt into records, sent as pages the reducer merges like
//! LookupEvents').

use crate::app::LookupProgress;
use crate::aws::AwsReader;
use crate::model::EntityId;
use crate::pivot::{Window, athena, lake};
use std::collections::HashMap;
use std::time::Duration;

/// Which engine, and where.
pub enum Engine {
    Lake {
        store: String,
    },
    Athena {
        table: String,
        workgroup: Option<String>,
        output: Option<String>,
    },
}

pub struct QueryEngine {
    pub engine: Engine,
    reader: AwsReader,
}

/// One row: a cell per column, named by it (a null cell left out).
pub type Row = Vec<HashMap<String, String>>;

/// How a query ended.
#[derive(Debug)]
pub enum QueryEnd {
    /// It finished: its id, final state and the bytes it scanned.
    Done {
        id: String,
        state: String,
        bytes_scanned: u64,
    },
    /// It failed, or could not start: why, in one line.
    Failed(String),
    /// The caller stopped waiting: it was cancelled in the state it was in.
    Cancelled { id: String, state: String },
}

/// Rows sent per page to the console.
const PAGE_ROWS: usize = 500;

impl QueryEngine {
    pub fn new(engine: Engine, reader: AwsReader) -> QueryEngine {
        QueryEngine { engine, reader }
    }

    /// What the trail's line and the CLI call it.
    pub fn label(&self) -> String {
        match &self.engine {
            Engine::Lake { store } => format!("CloudTrail Lake {store}"),
            Engine::Athena { table, .. } => format!("Athena {table}"),
        }
    }

    /// What scanning `bytes` costs, in dollars ($0.005/GB on Lake, $5/TB on Athena).
    pub fn cost_usd(&self, bytes: u64) -> f64 {
        match &self.engine {
            Engine::Lake { .. } => bytes as f64 / 1e9 * lake::USD_PER_GB,
            Engine::Athena { .. } => bytes as f64 / 1e12 * athena::USD_PER_TB,
        }
    }

    /// The query for `entity`'s CloudTrail events in `window` (the value an escaped literal).
    pub fn pivot_sql(&self, entity: &EntityId, window: Window) -> Result<String, &'static str> {
        match &self.engine {
            Engine::Lake { store } => lake::query(store, entity, window),
            Engine::Athena { table, .. } => athena::query(table, entity, window),
        }
    }

    /// Runs `sql`: started, followed with backoff (0.2 s up to 2 s) while `go_on` holds —
    /// cancelled otherwise — and its rows handed to `on_rows` page by page.
    pub fn query(
        &self,
        sql: &str,
        go_on: &dyn Fn() -> bool,
        on_rows: &mut dyn FnMut(Vec<Row>),
    ) -> QueryEnd {
        let r = &self.reader;
        let started = match &self.engine {
            Engine::Lake { .. } => r.lake_start(sql),
            Engine::Athena {
                workgroup, output, ..
            } => r.athena_start(sql, workgroup.as_deref(), output.as_deref()),
        };
        let id = match started {
            Ok(id) => id,
            Err(e) => return QueryEnd::Failed(e.plain()),
        };
        tracing::info!(query = %sql, id = %id, "query started");
        let mut wait = Duration::from_millis(200);
        let (state, bytes_scanned) = loop {
            // (done, succeeded, state, bytes scanned, why)
            let status = match &self.engine {
                Engine::Lake { .. } => r.lake_describe(&id).map(|s| {
                    let ok = s.status == "FINISHED";
                    (s.done(), ok, s.status, s.bytes_scanned, s.error)
                }),
                Engine::Athena { .. } => r.athena_status(&id).map(|s| {
                    let ok = s.state == "SUCCEEDED";
                    (s.done(), ok, s.state, s.bytes_scanned, s.reason)
                }),
            };
            match status {
                Err(e) => return QueryEnd::Failed(e.plain()),
                Ok((true, true, state, bytes, _)) => break (state, bytes),
                Ok((true, false, state, _, why)) => {
                    return QueryEnd::Failed(format!(
                        "query {id} {state}: {}",
                        why.unwrap_or_else(|| "no reason given".into())
                    ));
                }
                Ok((false, _, state, ..)) if !go_on() => {
                    let stopped = match &self.engine {
                        Engine::Lake { .. } => r.lake_cancel(&id),
                        Engine::Athena { .. } => r.athena_stop(&id),
                    };
                    return match stopped {
                        Ok(()) => QueryEnd::Cancelled { id, state },
                        Err(e) => QueryEnd::Failed(e.plain()),
                    };
                }
                Ok(_) => {}
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(2));
        };
        let mut token = None;
        // Athena's first row (of the first page) names the columns.
        let mut header: Option<Vec<String>> = None;
        loop {
            let page = match &self.engine {
                Engine::Lake { .. } => r.lake_page(&id, token.take()).map(|p| {
                    (
                        p.rows
                            .into_iter()
                            .map(|row| row.into_iter().collect())
                            .collect(),
                        p.next_token,
                    )
                }),
                Engine::Athena { .. } => r.athena_page(&id, token.take()).map(|p| {
                    let mut rows: Vec<Row> = Vec::new();
                    for row in p.rows {
                        let Some(names) = &header else {
                            header = Some(row.into_iter().map(Option::unwrap_or_default).collect());
                            continue;
                        };
                        rows.push(
                            names
                                .iter()
                                .zip(row)
                                .filter_map(|(n, v)| v.map(|v| HashMap::from([(n.clone(), v)])))
                                .collect(),
                        );
                    }
                    (rows, p.next_token)
                }),
            };
            match page {
                Ok((rows, next)) => {
                    on_rows(rows);
                    match next {
                        Some(t) if go_on() => token = Some(t),
                        _ => break,
                    }
                }
                Err(e) => return QueryEnd::Failed(e.plain()),
            }
        }
        QueryEnd::Done {
            id,
            state,
            bytes_scanned,
        }
    }

    /// The console's pivot of `entity` in `window`: the rows rebuilt into records and sent as
    /// `{"Records": […]}` pages; `go_on` false cancels it.
    pub fn run(
        &self,
        entity: &EntityId,
        window: Window,
        go_on: &dyn Fn() -> bool,
        on: &mut dyn FnMut(LookupProgress),
    ) {
        let sql = match self.pivot_sql(entity, window) {
            Ok(s) => s,
            Err(why) => {
                return on(LookupProgress::Failed { reason: why.into() });
            }
        };
        let mut records = Vec::new();
        let mut page = 0;
        let mut send = |records: &mut Vec<serde_json::Value>, all: bool| {
            while records.len() >= PAGE_ROWS || (all && !records.is_empty()) {
                let chunk: Vec<serde_json::Value> =
                    records.drain(..records.len().min(PAGE_ROWS)).collect();
                page += 1;
                on(LookupProgress::Page {
                    page,
                    body: serde_json::json!({ "Records": chunk }).to_string(),
                });
            }
        };
        let end = self.query(&sql, go_on, &mut |rows| {
            records.extend(rows.iter().map(|r| lake::record(r)));
            send(&mut records, false);
        });
        send(&mut records, true);
        match end {
            QueryEnd::Done { .. } => on(LookupProgress::SourceDone {
                pages: page,
                capped: false,
            }),
            QueryEnd::Failed(reason) => on(LookupProgress::Failed { reason }),
            // The responder moved on: nothing to say.
            QueryEnd::Cancelled { .. } => {}
        }
    }
}
