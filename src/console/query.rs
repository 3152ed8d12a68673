//! The query engine a live console's trail asks instead of LookupEvents: CloudTrail Lake or
//! Athena, one SQL query per pivot (built by [`crate::pivot::lake`] / [`crate::pivot::athena`]),
//! followed until it ends — cancelled when the responder moves on — its rows rebuilt into
//! records and sent as pages the reducer merges like LookupEvents' (`{"Records": […]}` bodies).

use crate::app::LookupProgress;
use crate::aws::AwsReader;
use crate::model::EntityId;
use crate::pivot::Window;
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

/// Rows sent per page.
const PAGE_ROWS: usize = 500;

impl QueryEngine {
    pub fn new(engine: Engine, reader: AwsReader) -> QueryEngine {
        QueryEngine { engine, reader }
    }

    /// What the trail's line calls it.
    pub fn label(&self) -> String {
        match &self.engine {
            Engine::Lake { store } => format!("CloudTrail Lake {store}"),
            Engine::Athena { table, .. } => format!("Athena {table}"),
        }
    }

    /// Runs the pivot of `entity` in `window`; `go_on` false cancels it.
    pub fn run(
        &self,
        entity: &EntityId,
        window: Window,
        go_on: &dyn Fn() -> bool,
        on: &mut dyn FnMut(LookupProgress),
    ) {
        let fail = |on: &mut dyn FnMut(LookupProgress), reason: String| {
            on(LookupProgress::Failed { reason });
        };
        let r = &self.reader;
        // Start.
        let (sql, id) = match &self.engine {
            Engine::Lake { store } => {
                let sql = match crate::pivot::lake::query(store, entity, window) {
                    Ok(s) => s,
                    Err(why) => return fail(on, why.into()),
                };
                match r.lake_start(&sql) {
                    Ok(id) => (sql, id),
                    Err(e) => return fail(on, e.plain()),
                }
            }
            Engine::Athena {
                table,
                workgroup,
                output,
            } => {
                let sql = match crate::pivot::athena::query(table, entity, window) {
                    Ok(s) => s,
                    Err(why) => return fail(on, why.into()),
                };
                match r.athena_start(&sql, workgroup.as_deref(), output.as_deref()) {
                    Ok(id) => (sql, id),
                    Err(e) => return fail(on, e.plain()),
                }
            }
        };
        tracing::info!(query = %sql, id = %id, "query started");
        // Follow, cancelling when the responder moved on.
        let mut wait = Duration::from_millis(200);
        loop {
            if !go_on() {
                let _ = match &self.engine {
                    Engine::Lake { .. } => r.lake_cancel(&id),
                    Engine::Athena { .. } => r.athena_stop(&id),
                };
                return;
            }
            let status = match &self.engine {
                Engine::Lake { .. } => r
                    .lake_describe(&id)
                    .map(|s| (s.done(), s.status == "FINISHED", s.status, s.error)),
                Engine::Athena { .. } => r
                    .athena_status(&id)
                    .map(|s| (s.done(), s.state == "SUCCEEDED", s.state, s.reason)),
            };
            match status {
                Err(e) => return fail(on, e.plain()),
                Ok((true, true, _, _)) => break,
                Ok((true, false, state, why)) => {
                    return fail(
                        on,
                        format!(
                            "query {state}: {}",
                            why.unwrap_or_else(|| "no reason given".into())
                        ),
                    );
                }
                Ok((false, ..)) => {}
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(2));
        }
        // Rows, rebuilt into records, sent in pages.
        let mut records = Vec::new();
        let mut token = None;
        let mut header: Option<Vec<String>> = None;
        let mut page = 0;
        loop {
            let (rows, next) = match &self.engine {
                Engine::Lake { .. } => match r.lake_page(&id, token.take()) {
                    Ok(p) => (
                        p.rows
                            .iter()
                            .map(|row| crate::pivot::lake::record(row))
                            .collect::<Vec<_>>(),
                        p.next_token,
                    ),
                    Err(e) => return fail(on, e.plain()),
                },
                Engine::Athena { .. } => match r.athena_page(&id, token.take()) {
                    Ok(p) => (
                        crate::pivot::athena::records(&mut header, p.rows),
                        p.next_token,
                    ),
                    Err(e) => return fail(on, e.plain()),
                },
            };
            records.extend(rows);
            while records.len() >= PAGE_ROWS || (next.is_none() && !records.is_empty()) {
                let take = records.len().min(PAGE_ROWS);
                let chunk: Vec<serde_json::Value> = records.drain(..take).collect();
                page += 1;
                on(LookupProgress::Page {
                    page,
                    body: serde_json::json!({ "Records": chunk }).to_string(),
                });
            }
            match next {
                Some(t) if go_on() => token = Some(t),
                _ => break,
            }
        }
        on(LookupProgress::SourceDone {
            pages: page,
            capped: false,
        });
    }
}
