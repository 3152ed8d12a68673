//! The loaders: files (`vigil open`) and in-memory evidence (a demo scenario) into findings, the
//! entity graph and the CloudTrail index, sent on the bus with progress. They run on tokio's
//! blocking pool; the console stays usable while they work.

use super::bus::Bus;
use crate::app::{Built, EvidenceRef, FileRef, Indexed, Msg, Progress};
use crate::graph::{EntityGraph, Linked};
use crate::ingest;
use crate::integrity::{self, FileStatus};
use crate::model::Finding;
use crate::pivot::{TrailIndex, Window};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `vigil open` reads.
#[derive(Debug, Clone, Default)]
pub struct FileSources {
    pub findings: Vec<PathBuf>,
    /// CloudTrail, flow logs and DNS logs (the content decides which is which).
    pub evidence: Vec<PathBuf>,
    /// Evidence in S3 prefixes, read after the files (objects fetched and indexed as they
    /// arrive).
    pub s3: Vec<S3Source>,
    /// Hunt through the CloudTrail evidence with these rules and lists (local files once
    /// indexed, S3 objects as they arrive): the detections join the findings list as findings of
    /// their own kind (`Hunt:…`).
    pub hunt: Option<super::hunt::HuntSetup>,
}

/// An S3 prefix to read: where, as whom, and along which service's layout.
#[derive(Debug, Clone)]
pub struct S3Source {
    pub uri: crate::pivot::s3layout::S3Uri,
    pub opts: crate::aws::AwsOptions,
    pub prune: crate::pivot::s3layout::Prune,
}

/// Objects fetched at once from S3.
const S3_CONCURRENCY: usize = 8;

/// The entity graph and the CloudTrail index, built together from the same records: the one
/// place that feeds both, whatever the source.
#[derive(Default)]
pub struct EvidenceBuilder {
    graph: EntityGraph,
    index: TrailIndex,
    /// The graph's node of each entity symbol of the index's numbering met so far, for parts
    /// whose graphs name entities by those symbols ([`Linked`]).
    graph_at: Vec<u32>,
    events: usize,
    /// Flow-log records and DNS queries checked against the threat lists as they pass.
    net: Option<crate::hunt::NetIntel>,
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

    /// [`Self::absorb`] for a part whose index and graph were built on the loader's thread
    /// ([`index_part`]): the graph joins this builder's; the index is `Some` to join this
    /// builder's, `None` when the caller sends it on in a segment.
    pub fn absorb_indexed(&mut self, l: ingest::Loaded, g: Linked, ix: Option<TrailIndex>) {
        let index = &self.index;
        self.graph
            .merge_linked(g, &mut self.graph_at, |s| index.symbol_entity(s).cloned());
        self.absorb_logs(&l.dns, &l.flows);
        self.events += l.event_count();
        if let Some(ix) = ix {
            self.index.append(ix);
        }
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

    /// Checks the network logs that pass against these lists (their detections: [`Self::take_net`]).
    pub fn check_networks(&mut self, intel: crate::hunt::Intel) {
        self.net = Some(crate::hunt::NetIntel::new(intel));
    }

    /// What the network logs so far matched on the threat lists.
    pub fn take_net(&mut self) -> Option<crate::hunt::NetIntel> {
        self.net.take()
    }

    fn absorb_logs(&mut self, dns: &[crate::model::DnsQuery], flows: &[crate::model::FlowRecord]) {
        if let Some(net) = self.net.as_mut() {
            net.add_flows(flows);
            net.add_dns(dns);
        }
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

    pub fn build(mut self) -> Built {
        self.index.finish();
        Built {
            index: self.index,
            graph: self.graph,
        }
    }

    /// The finished message: `findings` is how many of the console's findings the graph holds.
    pub fn finish(self, evidence: EvidenceRef, findings: usize, elapsed_ms: u64) -> Indexed {
        let events = self.events;
        Indexed {
            evidence,
            findings,
            events,
            elapsed_ms,
            parts: 0,
            built: Some(Box::new(self.build())),
        }
    }
}

/// Indexes a demo scenario's evidence (already in memory).
pub fn index_scenario(bus: &Bus, scenario: &crate::demo::Scenario) {
    let start = Instant::now();
    if let Some(intel) = scenario.threat_intel() {
        bus.blocking_send(Msg::Intel(intel));
    }
    let mut b = EvidenceBuilder::default();
    b.absorb_ref(&scenario.evidence);
    let evidence = EvidenceRef::Demo {
        scenario: scenario.manifest.name.clone(),
        sha256: scenario.evidence_sha256(),
    };
    let elapsed_ms = start.elapsed().as_millis() as u64;
    bus.blocking_send(Msg::Indexed(Box::new(b.finish(evidence, 0, elapsed_ms))));
}

/// Loads findings first (the screen fills at once), then indexes the evidence with progress.
/// The inputs are hashed alongside, for the load's [`EvidenceRef`].
pub fn load_files(bus: &Bus, sources: FileSources) {
    let send = |m: Msg| bus.blocking_send(m);
    let findings_files = ingest::source::expand(&sources.findings).unwrap_or_default();
    // The evidence's files, less those the findings' paths already reached (one folder given as
    // both): each file is read once.
    let mut all = sources.findings.clone();
    all.extend(sources.evidence.iter().cloned());
    let evidence_files: Vec<PathBuf> = ingest::source::expand(&all)
        .unwrap_or_default()
        .get(findings_files.len()..)
        .map(<[PathBuf]>::to_vec)
        .unwrap_or_default();
    let sources = FileSources {
        evidence: evidence_files.clone(),
        ..sources
    };
    let (loaded, hashed) = std::thread::scope(|sc| {
        let hashes = sc.spawn(|| {
            Ok::<_, std::io::Error>((file_refs(&findings_files)?, file_refs(&evidence_files)?))
        });
        let loaded = build_files(&sources, evidence_files.len(), &send, true);
        (loaded, hashes.join())
    });
    let Some(Loaded {
        mut builder,
        findings,
        digests,
        elapsed_ms,
        parts,
        s3_matches,
    }) = loaded
    else {
        return;
    };
    let evidence = match hashed {
        Ok(Ok((findings, evidence))) => EvidenceRef::Files { findings, evidence },
        _ => EvidenceRef::Inline {
            label: "files that could not be hashed".into(),
        },
    };
    let net = builder.take_net();
    let mut done = builder.finish(evidence, findings, elapsed_ms);
    // The index came in segments: this message brings the graph.
    done.parts = parts;
    let events = done.events;
    send(Msg::Indexed(Box::new(done)));
    if let Some(setup) = &sources.hunt
        && (!evidence_files.is_empty() || !sources.s3.is_empty() || events > 0)
    {
        // CloudTrail among the findings' files is indexed with them: it is hunted too.
        let mut files = findings_files.clone();
        files.extend(evidence_files.iter().cloned());
        super::hunt::hunt(&send, setup, &files, s3_matches, net);
    }
    // After the index: the console is usable while the named files are checked.
    if !digests.digests.is_empty() {
        let mut files = findings_files;
        files.extend(evidence_files);
        let report = integrity::verify(&digests.digests, &files, &digests.trail_files);
        for c in &report.digests {
            for f in c.files.iter().filter(|f| f.status == FileStatus::Tampered) {
                tracing::warn!(digest = %c.path, paths = ?f.paths, "log file differs from its digest");
            }
        }
        send(Msg::Integrity(report.totals));
    }
}

/// What [`build_files`] built.
pub(super) struct Loaded {
    /// Index segments sent on the way (none when the index is in the builder).
    parts: usize,
    pub(super) builder: EvidenceBuilder,
    findings: usize,
    digests: Digests,
    elapsed_ms: u64,
    /// What the hunt's rules matched in S3 objects, as they arrived (there is no file to read
    /// them again from).
    s3_matches: crate::hunt::Matches,
}

/// The findings then the evidence of `sources`, into one builder; `send` gets the findings,
/// progress and errors as they come. `None` when there is no evidence to index or the console
/// has gone.
pub(super) fn build_files(
    sources: &FileSources,
    files_total: usize,
    send: &dyn Fn(Msg) -> bool,
    segmented: bool,
) -> Option<Loaded> {
    let start = Instant::now();
    let mut b = EvidenceBuilder::default();
    if let Some(setup) = &sources.hunt
        && !setup.intel.is_empty()
    {
        // The lists first: the screens mark what is on them from the first row.
        if !send(Msg::Intel(setup.intel.clone())) {
            return None;
        }
        b.check_networks(setup.intel.clone());
    }
    let mut digests = Digests::default();
    let mut findings = 0usize;
    if !sources.findings.is_empty() {
        let mut batch: Vec<Finding> = Vec::new();
        match ingest::load(&sources.findings) {
            Ok(mut l) => {
                report_errors(send, &l.errors);
                b.add_findings(&l.findings);
                batch = std::mem::take(&mut l.findings);
                digests.take(&mut l);
                b.absorb(l);
            }
            Err(e) => report_errors(send, &[ingest::IngestError::file(&e.path, e.to_string())]),
        }
        findings = batch.len();
        if !send(Msg::Findings(batch)) {
            return None;
        }
    }
    if sources.evidence.is_empty() && sources.s3.is_empty() && b.events() == 0 {
        return None;
    }
    let mut segments = Segments::new(send);
    let hunter = sources.hunt.as_ref().map(|h| h.hunter());
    let s3_matches = index_evidence(
        send,
        &sources.evidence,
        &sources.s3,
        files_total,
        &mut b,
        &mut digests,
        segmented.then_some(&mut segments),
        hunter.as_ref(),
    );
    Some(Loaded {
        builder: b,
        findings,
        digests,
        elapsed_ms: start.elapsed().as_millis() as u64,
        parts: segments.sent,
        s3_matches,
    })
}

/// Size and SHA-256 of each file.
fn file_refs(paths: &[PathBuf]) -> std::io::Result<Vec<FileRef>> {
    paths.iter().map(|p| file_ref(p)).collect()
}

pub(super) fn file_ref(path: &std::path::Path) -> std::io::Result<FileRef> {
    // The bytes on disk (a .gz stays compressed): what identifies the input.
    let (sha256, bytes) = integrity::sha256_of(std::fs::File::open(path)?)?;
    Ok(FileRef {
        path: path.to_path_buf(),
        bytes,
        sha256,
    })
}

/// Streams the evidence files into `b`, with progress at most every 100 ms; S3 objects are
/// also hunted with `hunter` as they arrive (what they matched is returned).
#[allow(clippy::too_many_arguments)]
fn index_evidence(
    send: &dyn Fn(Msg) -> bool,
    paths: &[PathBuf],
    s3: &[S3Source],
    files_total: usize,
    b: &mut EvidenceBuilder,
    digests: &mut Digests,
    mut segments: Option<&mut Segments<'_>>,
    hunter: Option<&crate::hunt::Hunter>,
) -> crate::hunt::Matches {
    let mut s3_matches = crate::hunt::Matches::default();
    let start = Instant::now();
    let mut files_total = files_total;
    let mut files_done = 0usize;
    let mut last_progress = Instant::now();
    send(Msg::Progress(Progress {
        files_done,
        files_total,
        events: b.events(),
        elapsed_ms: 0,
    }));
    // The files in the order the streaming load numbers them.
    let files = ingest::source::expand(paths).unwrap_or_default();
    // A file's errors are summarised when its last part arrives (first few of each kind per
    // file, as the CLI does), not part by part.
    let mut file_errors: HashMap<usize, Vec<ingest::IngestError>> = HashMap::new();
    // Parts number strings and entities as the builder's index does, and join it by a copy.
    let template = b.index.part();
    // Index parts of files still arriving, for their segment.
    let mut arriving: HashMap<usize, Vec<TrailIndex>> = HashMap::new();
    // One part of input `i` (named `name`: a file or an S3 object), with its index.
    let mut on_part = |i: usize,
                       (mut part, ix, g): (ingest::Loaded, TrailIndex, Linked),
                       name: Option<PathBuf>,
                       total: usize| {
        file_errors.entry(i).or_default().append(&mut part.errors);
        // Findings among the evidence (a GuardDuty export in the case folder or the bucket)
        // join the list as they are read: the reducer adds them to its graph.
        if !part.findings.is_empty() {
            send(Msg::Findings(std::mem::take(&mut part.findings)));
        }
        let whole = part.files > 0;
        if whole {
            report_errors(send, &file_errors.remove(&i).unwrap_or_default());
        }
        digests.take(&mut part);
        files_done += part.files;
        match segments.as_deref_mut() {
            Some(seg) => {
                b.absorb_indexed(part, g, None);
                arriving.entry(i).or_default().push(ix);
                if whole {
                    seg.file(
                        name.unwrap_or_default(),
                        arriving.remove(&i).unwrap_or_default(),
                    );
                }
            }
            None => b.absorb_indexed(part, g, Some(ix)),
        }
        if last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            send(Msg::Progress(Progress {
                files_done,
                files_total: total,
                events: b.events(),
                elapsed_ms: start.elapsed().as_millis() as u64,
            }));
        }
    };
    let map_part = |part| index_part(&template, part);
    let res = ingest::load_streaming_with(paths, map_part, |i, part| {
        on_part(i, part, files.get(i).cloned(), files_total);
    });
    if let Err(e) = res {
        report_errors(send, &[ingest::IngestError::file(&e.path, e.to_string())]);
    }
    // S3 prefixes: listed, then each object indexed as it arrives, numbered after the files.
    let mut next = files.len();
    for src in s3 {
        let name = src.uri.key_uri(&src.uri.prefix);
        let fail = |why: String| {
            report_errors(send, &[ingest::IngestError::file(Path::new(&name), why)]);
        };
        let reader = match crate::aws::connect_read_only(&src.opts) {
            Ok(r) => r,
            Err(e) => {
                fail(e.to_string());
                continue;
            }
        };
        let listing = match reader.s3_list(&src.uri, &src.prune) {
            Ok(l) => l,
            Err(e) => {
                fail(e.plain());
                continue;
            }
        };
        let names: Vec<PathBuf> = listing
            .objects
            .iter()
            .map(|o| src.uri.key_uri(&o.key).into())
            .collect();
        let keys: Vec<String> = listing.objects.iter().map(|o| o.key.clone()).collect();
        files_total += names.len();
        let (tx, rx) = std::sync::mpsc::sync_channel(S3_CONCURRENCY);
        let bucket = src.uri.bucket.clone();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let got = reader.s3_fetch(&bucket, &keys, S3_CONCURRENCY, &mut |i, got| {
                    let _ = tx.send((i, got.map_err(|e| e.plain())));
                });
                if let Err(e) = got {
                    tracing::warn!(error = %e.plain(), "S3 fetch stopped");
                }
            });
            // The hunt reads a copy of each object on a thread of its own (not the loader's
            // pool, which is busy pulling objects), so the two never wait on each other.
            let (htx, hrx) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(S3_CONCURRENCY);
            let hunting = hunter.map(|h| {
                scope.spawn(move || {
                    hrx.into_iter()
                        .map(|(name, bytes)| h.scan_object(&name, Ok(bytes), Window::all()))
                        .fold(crate::hunt::Matches::default(), crate::hunt::Matches::join)
                })
            });
            let htx = hunting.is_some().then_some(htx);
            let names_ref = &names;
            let objects = rx.into_iter().map(move |(i, got)| {
                let name = names_ref.get(i).cloned().unwrap_or_else(|| "s3://?".into());
                if let (Some(htx), Ok(bytes)) = (&htx, &got) {
                    let _ = htx.send((name.clone(), bytes.clone()));
                }
                (name, got)
            });
            let base = next;
            let total = files_total;
            next += ingest::load_objects_streaming(objects, base, map_part, |i, part| {
                on_part(i, part, names.get(i - base).cloned(), total);
            });
            // The objects (and the hunt's copies) are all read: the hunt thread ends.
            if let Some(Ok(m)) = hunting.map(|h| h.join()) {
                s3_matches = std::mem::take(&mut s3_matches).join(m);
            }
        });
    }
    if let Some(seg) = segments {
        seg.flush();
    }
    s3_matches
}

/// The index of a load sent in segments, so the trail fills file by file: the events of whole
/// files are gathered, the first segment sent as soon as a file is read, the next ones at
/// [`Segments::EVENTS`] or a quarter of the events sent before, whichever is more, each as a
/// [`Msg::IndexedPart`] naming its files (a replay builds the same segment from them). Each
/// segment makes the console put its whole index back in order once, in time linear in its
/// size: segments that grow with the index keep the sum of those to a few times one whole
/// index's, however long the trail (at a fixed 100 000 events, a 10M-event load did it a
/// hundred times). Measured on a million events: faster than one index at the end (the reducer
/// indexes while the loader builds the graph) for about a fifth more peak memory.
struct Segments<'s> {
    send: &'s dyn Fn(Msg) -> bool,
    parts: Vec<TrailIndex>,
    events: usize,
    /// Events of the segments sent.
    total: usize,
    files: Vec<PathBuf>,
    sent: usize,
    start: Instant,
}

impl<'s> Segments<'s> {
    const EVENTS: usize = 100_000;

    fn new(send: &'s dyn Fn(Msg) -> bool) -> Segments<'s> {
        Segments {
            send,
            parts: Vec::new(),
            events: 0,
            total: 0,
            files: Vec::new(),
            sent: 0,
            start: Instant::now(),
        }
    }

    /// A whole file's index, in parts.
    fn file(&mut self, path: PathBuf, parts: Vec<TrailIndex>) {
        self.events += parts.iter().map(TrailIndex::len).sum::<usize>();
        self.parts.extend(parts);
        self.files.push(path);
        if Self::due(self.sent, self.events, self.total) {
            self.flush();
        }
    }

    /// Whether `events` gathered make a segment, `sent` segments of `total` events in.
    fn due(sent: usize, events: usize, total: usize) -> bool {
        sent == 0 || events >= Self::EVENTS.max(total / 4)
    }

    fn flush(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let files = std::mem::take(&mut self.files);
        // The segment shares its parts' symbols, and so does the console's index it joins.
        let mut index = self
            .parts
            .first()
            .map_or_else(TrailIndex::new, TrailIndex::part);
        index.absorb_all(std::mem::take(&mut self.parts));
        self.events = 0;
        let n = index.len();
        self.total += n;
        let s3 = files
            .iter()
            .any(|f| f.to_string_lossy().starts_with("s3://"));
        let evidence = match file_refs(&files) {
            Ok(evidence) if !s3 => EvidenceRef::Files {
                findings: Vec::new(),
                evidence,
            },
            // An S3 object is not on disk to be read back: a replay says it cannot rebuild.
            _ if s3 => EvidenceRef::Inline {
                label: "S3 objects".into(),
            },
            _ => EvidenceRef::Inline {
                label: "files that could not be hashed".into(),
            },
        };
        self.sent += 1;
        (self.send)(Msg::IndexedPart(Box::new(Indexed {
            evidence,
            findings: 0,
            events: n,
            elapsed_ms: self.start.elapsed().as_millis() as u64,
            parts: 0,
            built: Some(Box::new(Built {
                index,
                graph: EntityGraph::default(),
            })),
        })));
    }
}

/// A part's index and the graph of its events, built on the loader's thread (see
/// [`ingest::load_streaming_with`]), which also drops the events: the thread that joins the
/// parts was the load's bottleneck when it graphed (and freed) every event itself.
fn index_part(
    template: &TrailIndex,
    mut part: ingest::Loaded,
) -> (ingest::Loaded, TrailIndex, Linked) {
    let mut ix = template.part();
    let numbers = ix.add_all(&part.events);
    let g = Linked::of_events(&part.events, &numbers, |e| ix.entity_symbol(e));
    part.events_folded += part.events.len();
    part.events = Vec::new();
    (part, ix, g)
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

fn report_errors(send: &dyn Fn(Msg) -> bool, errors: &[ingest::IngestError]) {
    if errors.is_empty() {
        return;
    }
    tracing::warn!(count = errors.len(), "input records could not be read");
    // The first few of each kind per file, as the CLI prints them; never 300,000 lines.
    for line in ingest::errors::ErrorSummary::new(errors, false).lines() {
        tracing::warn!("{line}");
    }
    send(Msg::LoadErrors {
        count: errors.len(),
        first: errors.first().cloned(),
    });
}

#[cfg(test)]
mod tests {
    use super::Segments;

    /// Ten million events in files of ten thousand: the console is sent a few dozen segments,
    /// not a thousand, and what it re-sorts over the whole load (its index's size at each
    /// segment) adds up to a few times the whole index, not fifty.
    #[test]
    fn segments_grow_with_the_index() {
        let (mut sent, mut events, mut total, mut sorted) = (0usize, 0usize, 0usize, 0usize);
        for _ in 0..1000 {
            events += 10_000;
            if Segments::due(sent, events, total) {
                (total, events, sent) = (total + events, 0, sent + 1);
                sorted += total;
            }
        }
        assert!(sent <= 30, "{sent} segments");
        assert!(sorted <= 6 * 10_000_000, "{sorted} rows sorted");
        // The first file is its own segment, and a short load still fills in steps.
        assert!(Segments::due(0, 1, 0));
        assert!(Segments::due(1, Segments::EVENTS, 150_000));
        assert!(!Segments::due(1, Segments::EVENTS - 1, 150_000));
    }
}
