//! Athena: one query over the CloudTrail table — started, followed, its rows paged, stopped on
//! cancel. Rows come back as strings under the column names of the first row (the header).

use super::clients::{Clients, ReadOp};
use crate::actions::CallError;

/// A query execution's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaStatus {
    /// QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED.
    pub state: String,
    pub bytes_scanned: u64,
    pub reason: Option<String>,
}

impl AthenaStatus {
    pub fn done(&self) -> bool {
        !matches!(self.state.as_str(), "QUEUED" | "RUNNING")
    }
}

/// One page of rows, each cell as text (`None`: null).
#[derive(Debug)]
pub struct AthenaPage {
    pub rows: Vec<Vec<Option<String>>>,
    pub next_token: Option<String>,
}

pub(super) fn start(
    c: &Clients,
    sql: &str,
    workgroup: Option<&str>,
    output: Option<&str>,
) -> Result<String, CallError> {
    let mut req = c.athena.start_query_execution().query_string(sql);
    if let Some(w) = workgroup {
        req = req.work_group(w);
    }
    if let Some(o) = output {
        req = req.result_configuration(
            aws_sdk_athena::types::ResultConfiguration::builder()
                .output_location(o)
                .build(),
        );
    }
    let out = c.read(ReadOp::StartQueryExecution, req.send())?;
    out.query_execution_id()
        .map(str::to_string)
        .ok_or_else(|| CallError::new("vigil.NoId", "StartQueryExecution answered without an id"))
}

pub(super) fn status(c: &Clients, id: &str) -> Result<AthenaStatus, CallError> {
    let out = c.read(
        ReadOp::GetQueryExecution,
        c.athena.get_query_execution().query_execution_id(id).send(),
    )?;
    let ex = out.query_execution();
    let st = ex.and_then(|e| e.status());
    Ok(AthenaStatus {
        state: st
            .and_then(|s| s.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        bytes_scanned: ex
            .and_then(|e| e.statistics())
            .and_then(|s| s.data_scanned_in_bytes())
            .unwrap_or(0)
            .max(0) as u64,
        reason: st.and_then(|s| s.state_change_reason()).map(str::to_string),
    })
}

pub(super) fn page(c: &Clients, id: &str, token: Option<String>) -> Result<AthenaPage, CallError> {
    let out = c.read(
        ReadOp::AthenaGetQueryResults,
        c.athena
            .get_query_results()
            .query_execution_id(id)
            .set_next_token(token)
            .send(),
    )?;
    let rows = out
        .result_set()
        .map(|r| {
            r.rows()
                .iter()
                .map(|row| {
                    row.data()
                        .iter()
                        .map(|d| d.var_char_value().map(str::to_string))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(AthenaPage {
        rows,
        next_token: out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    })
}

pub(super) fn stop(c: &Clients, id: &str) -> Result<(), CallError> {
    c.read(
        ReadOp::StopQueryExecution,
        c.athena
            .stop_query_execution()
            .query_execution_id(id)
            .send(),
    )
    .map(|_| ())
}
