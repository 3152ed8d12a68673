//! Amazon Detective for a live session: what the region's behaviour graph knows of an IAM user
//! or role — its investigations, and the indicators of the newest successful one — and, when
//! asked, a new investigation started and followed until it ends. Blocking (the AWS clients
//! block); the executor runs it on the blocking pool and sends each report as a message.

use super::live::LiveError;
use crate::aws::{AwsOptions, AwsReader};
use crate::model::Ts;
use crate::model::detective::DetectiveReport;
use std::time::{Duration, Instant};

/// How often a running investigation is asked how it is going.
const POLL: Duration = Duration::from_secs(5);
/// An investigation still running after this is left running; the panel says so.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// Detective in one profile and region (the session's first).
pub struct Detective {
    pub label: String,
    reader: AwsReader,
}

impl Detective {
    pub fn connect(label: &str, opts: &AwsOptions) -> Result<Detective, LiveError> {
        let reader = crate::aws::connect_read_only(opts).map_err(|source| LiveError::Connect {
            target: label.to_string(),
            source,
        })?;
        Ok(Detective {
            label: label.to_string(),
            reader,
        })
    }

    /// Reports what Detective knows of `entity_arn` through `on`, each time it changes: the
    /// investigations at once, then (with `start`) the new one until it ends, then the
    /// indicators. A failed call is reported and ends the run.
    pub fn investigate(
        &self,
        entity_arn: &str,
        start: Option<(Ts, Ts)>,
        on: &mut dyn FnMut(Result<DetectiveReport, String>),
    ) {
        if let Err(e) = self.run(entity_arn, start, on) {
            on(Err(e.plain()));
        }
    }

    fn run(
        &self,
        entity_arn: &str,
        start: Option<(Ts, Ts)>,
        on: &mut dyn FnMut(Result<DetectiveReport, String>),
    ) -> Result<(), crate::actions::CallError> {
        let r = &self.reader;
        let Some(graph) = r.detective_graphs()?.into_iter().next() else {
            on(Ok(DetectiveReport {
                graph: None,
                investigations: Vec::new(),
                shown: None,
                indicators: Vec::new(),
            }));
            return Ok(());
        };
        let mut report = DetectiveReport {
            graph: Some(graph.clone()),
            investigations: r.investigations(&graph, entity_arn)?,
            shown: None,
            indicators: Vec::new(),
        };
        if let Some((from, to)) = start {
            let id = r.start_investigation(&graph, entity_arn, from, to)?;
            let began = Instant::now();
            let mut wait = Duration::from_secs(1);
            loop {
                let inv = r.investigation(&graph, &id)?;
                let running = inv.running();
                report.investigations.retain(|i| i.id != id);
                report.investigations.insert(0, inv);
                on(Ok(report.clone()));
                if !running || began.elapsed() > MAX_WAIT {
                    break;
                }
                std::thread::sleep(wait);
                wait = POLL;
            }
        }
        let shown = report
            .investigations
            .iter()
            .find(|i| i.status == "SUCCESSFUL")
            .map(|i| i.id.clone());
        if let Some(id) = &shown {
            report.indicators = r.indicators(&graph, id)?;
        }
        report.shown = shown;
        on(Ok(report));
        Ok(())
    }
}
