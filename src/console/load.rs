//! The loaders: files (`vigil open`) and in-memory evidence (a demo scenario) into findings, the
//! entity graph and the CloudTrail index, sent on the bus with progress. They run on tokio's
//! blocking pool; the console stays usable while they work.

use super::Bus;
use crate::app::{Indexed, Msg, Progress};
use crate::graph::EntityGraph;
use crate::ingest;
use crate::integrity::{self, FileStatus};
use crate::model::Finding;
use crate::pivot::TrailIndex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `vigil open` reads.
#[derive(Debug, Clone, Default)]
pub struct FileSources {
    pub findings: Vec<PathBuf>,
    /// CloudTrail, flow logs and DNS logs (the content decides which is which).
    pub evidence: Vec<PathBuf>,
}

/// The entity graph and the CloudTrail index, built together from the same records: the one
/// place that feeds both, whatever the source.
#[derive(Default)]
pub struct EvidenceBuilder {
    graph: EntityGraph,
    index: TrailIndex,
    events: usize,
}

impl EvidenceBuilder {
    pub fn add_findings(&mut self, findings: &[Finding]) {
        for f in findings {
            self.graph.add_finding(f);
        }
    }

    /// Feeds a load's evidence in (its events move into the index); returns how many events.
    pub fn absorb(&mut self, l: ingest::Loaded) -> usize {
        let n = l.events.len();
        for e in l.events {
            self.graph.add_event(&e);
            self.index.add(e);
        }
        self.absorb_logs(&l.dns, &l.flows);
        self.events += n;
        n
    }

    /// [`Self::absorb`] for evidence that stays where it is (a scenario's logs).
    pub fn absorb_ref(&mut self, l: &ingest::Loaded) {
        for e in &l.events {
            self.graph.add_event(e);
            self.index.add(e.clone());
        }
        self.absorb_logs(&l.dns, &l.flows);
        self.events += l.events.len();
    }

    fn absorb_logs(&mut self, dns: &[crate::model::DnsQuery], flows: &[crate::model::FlowRecord]) {
        for q in dns {
            self.graph.add_dns(q);
        }
        for r in flows {
            self.graph.add_flow(r);
        }
    }

    pub fn events(&self) -> usize {
        self.events
    }

    /// The finished message: `findings` is how many of the console's findings the graph holds.
    pub fn finish(mut self, findings: usize, elapsed_ms: u64) -> Indexed {
        self.index.finish();
        Indexed {
            index: self.index,
            graph: self.graph,
            findings,
            events: self.events,
            elapsed_ms,
        }
    }
}

/// Indexes evidence that is already in memory (a demo scenario's logs).
pub fn index_loaded(bus: &Bus, loaded: &ingest::Loaded) {
    let start = Instant::now();
    let mut b = EvidenceBuilder::default();
    b.absorb_ref(loaded);
    let elapsed_ms = start.elapsed().as_millis() as u64;
    bus.blocking_send(Msg::Indexed(Box::new(b.finish(0, elapsed_ms))));
}

/// Loads findings first (the screen fills at once), then indexes the evidence with progress.
pub fn load_files(bus: &Bus, sources: FileSources) {
    let start = Instant::now();
    let mut b = EvidenceBuilder::default();
    let mut digests = Digests::default();
    let mut findings = 0usize;
    if !sources.findings.is_empty() {
        let mut batch: Vec<Finding> = Vec::new();
        match ingest::load(&sources.findings) {
            Ok(mut l) => {
                report_errors(bus, &l.errors);
                b.add_findings(&l.findings);
                batch = std::mem::take(&mut l.findings);
                digests.take(&mut l);
                b.absorb(l);
            }
            Err(e) => report_errors(bus, &[ingest::IngestError::file(&e.path, e.to_string())]),
        }
        findings = batch.len();
        if !bus.blocking_send(Msg::Findings(batch)) {
            return;
        }
    }
    if sources.evidence.is_empty() && b.events() == 0 {
        return;
    }
    let evidence_files = ingest::source::expand(&sources.evidence).unwrap_or_default();
    index_evidence(
        bus,
        &sources.evidence,
        evidence_files.len(),
        &mut b,
        &mut digests,
    );
    let elapsed_ms = start.elapsed().as_millis() as u64;
    bus.blocking_send(Msg::Indexed(Box::new(b.finish(findings, elapsed_ms))));
    // After the index: the console is usable while the named files are hashed.
    if !digests.digests.is_empty() {
        let mut files = ingest::source::expand(&sources.findings).unwrap_or_default();
        files.extend(evidence_files);
        let report = integrity::verify(&digests.digests, &files, &digests.trail_files);
        for c in &report.digests {
            for f in c.files.iter().filter(|f| f.status == FileStatus::Tampered) {
                tracing::warn!(digest = %c.path, paths = ?f.paths, "log file differs from its digest");
            }
        }
        bus.blocking_send(Msg::Integrity(report.totals));
    }
}

/// Streams the evidence files into `b`, with progress at most every 100 ms.
fn index_evidence(
    bus: &Bus,
    paths: &[PathBuf],
    files_total: usize,
    b: &mut EvidenceBuilder,
    digests: &mut Digests,
) {
    let start = Instant::now();
    let mut files_done = 0usize;
    let mut last_progress = Instant::now();
    bus.blocking_send(Msg::Progress(Progress {
        files_done,
        files_total,
        events: b.events(),
        elapsed_ms: 0,
    }));
    // A file's errors are summarised when its last part arrives (first few of each kind per
    // file, as the CLI does), not part by part.
    let mut file_errors: HashMap<usize, Vec<ingest::IngestError>> = HashMap::new();
    let res = ingest::load_streaming(paths, |i, mut part| {
        file_errors.entry(i).or_default().append(&mut part.errors);
        if part.files > 0 {
            report_errors(bus, &file_errors.remove(&i).unwrap_or_default());
        }
        digests.take(&mut part);
        files_done += part.files;
        b.absorb(part);
        if last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            bus.blocking_send(Msg::Progress(Progress {
                files_done,
                files_total,
                events: b.events(),
                elapsed_ms: start.elapsed().as_millis() as u64,
            }));
        }
    });
    if let Err(e) = res {
        report_errors(bus, &[ingest::IngestError::file(&e.path, e.to_string())]);
    }
}

/// The digest files a load found and the CloudTrail log files they should cover.
#[derive(Default)]
struct Digests {
    digests: Vec<ingest::digest::Digest>,
    trail_files: Vec<Arc<PathBuf>>,
}

impl Digests {
    fn take(&mut self, l: &mut ingest::Loaded) {
        self.digests.append(&mut l.digests);
        self.trail_files.append(&mut l.trail_files);
    }
}

fn report_errors(bus: &Bus, errors: &[ingest::IngestError]) {
    if errors.is_empty() {
        return;
    }
    tracing::warn!(count = errors.len(), "input records could not be read");
    // The first few of each kind per file, as the CLI prints them; never 300,000 lines.
    for line in ingest::errors::ErrorSummary::new(errors, false).lines() {
        tracing::warn!("{line}");
    }
    bus.blocking_send(Msg::LoadErrors {
        count: errors.len(),
        first: errors.first().map(|e| e.to_string()),
    });
}
