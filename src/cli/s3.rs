//! S3 prefixes as inputs (`--trail s3://BUCKET/PREFIX`, and the other evidence flags): listed
//! along CloudTrail's layout with what the command prunes by, fetched several objects at a time
//! and handed on as they arrive — nothing is written to disk — with progress on stderr.

use super::args::AwsTargets;
use super::error::CliError;
use crate::model::text::{self, Escaped};
use crate::pivot::s3layout::{Prune, S3Uri};
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Objects fetched at once.
const CONCURRENCY: usize = 8;

/// Local paths and S3 prefixes, apart.
pub fn split(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<S3Uri>) {
    let mut local = Vec::new();
    let mut remote = Vec::new();
    for p in paths {
        match S3Uri::parse(&p.to_string_lossy()) {
            Some(u) => remote.push(u),
            None => local.push(p.clone()),
        }
    }
    (local, remote)
}

/// The objects of one prefix, arriving.
pub struct Feed {
    names: Vec<PathBuf>,
    rx: Receiver<(usize, Result<Vec<u8>, String>)>,
    fetcher: std::thread::JoinHandle<Result<(), crate::actions::CallError>>,
}

/// Lists `uri` (pruned by `prune`) and starts fetching; the listing's size and cost on stderr.
pub fn open(aws: &AwsTargets, uri: &S3Uri, prune: &Prune) -> Result<Feed, CliError> {
    let here = uri.key_uri(&uri.prefix);
    let opts = crate::aws::AwsOptions {
        profile: aws.profiles.first().cloned(),
        region: aws.regions.first().cloned(),
        ..super::aws::base(aws)?
    };
    // Bucket names are global: with no region anywhere, ask us-east-1 (a bucket elsewhere
    // answers with a redirect naming its region, which the error then says).
    let reader = match crate::aws::connect_read_only(&opts) {
        Err(crate::aws::AwsError::NoRegion) => {
            crate::aws::connect_read_only(&crate::aws::AwsOptions {
                region: Some("us-east-1".into()),
                ..opts.clone()
            })
        }
        r => r,
    }
    .map_err(|e| CliError::S3(format!("{here}: {e}")))?;
    // A bucket in another region than the client's answers with a redirect: ask where it is.
    let reader = match reader.s3_bucket_region(&uri.bucket) {
        Some(r) if Some(r.as_str()) != opts.region.as_deref() && opts.endpoint_url.is_none() => {
            crate::aws::connect_read_only(&crate::aws::AwsOptions {
                region: Some(r),
                ..opts
            })
            .map_err(|e| CliError::S3(format!("{here}: {e}")))?
        }
        _ => reader,
    };
    let listing = reader
        .s3_list(uri, prune)
        .map_err(|e| CliError::S3(format!("{here}: {}", e.plain())))?;
    let bytes: u64 = listing.objects.iter().map(|o| o.size).sum();
    eprintln!(
        "vigil: {}: {} object(s), {} in {} list call(s)",
        Escaped(&here),
        listing.objects.len(),
        text::bytes(bytes),
        listing.list_calls
    );
    let keys: Vec<String> = listing.objects.iter().map(|o| o.key.clone()).collect();
    let names = keys.iter().map(|k| uri.key_uri(k).into()).collect();
    let (tx, rx) = std::sync::mpsc::sync_channel(CONCURRENCY);
    let bucket = uri.bucket.clone();
    let fetcher = std::thread::spawn(move || {
        reader.s3_fetch(&bucket, &keys, CONCURRENCY, &mut |i, got| {
            let _ = tx.send((i, got.map_err(|e| e.plain())));
        })
    });
    Ok(Feed { names, rx, fetcher })
}

impl Feed {
    /// Hands every object to `use_objects` as it arrives (named by its `s3://` URI; an object
    /// that could not be fetched comes as why), printing progress once a second.
    pub fn consume<T>(
        self,
        use_objects: impl FnOnce(
            &mut (dyn Iterator<Item = (PathBuf, Result<Vec<u8>, String>)> + Send),
        ) -> T,
    ) -> Result<T, CliError> {
        let Feed { names, rx, fetcher } = self;
        let total = names.len();
        let started = Instant::now();
        let (mut done, mut fetched, mut last) = (0usize, 0u64, Instant::now());
        let mut objects = rx.into_iter().map(move |(i, got)| {
            done += 1;
            if let Ok(b) = &got {
                fetched += b.len() as u64;
            }
            if last.elapsed() >= Duration::from_secs(1) || done == total {
                last = Instant::now();
                let secs = started.elapsed().as_secs_f64().max(0.001);
                eprintln!(
                    "vigil: s3: {done}/{total} objects, {} ({}/s)",
                    text::bytes(fetched),
                    text::bytes((fetched as f64 / secs) as u64)
                );
            }
            let name = names.get(i).cloned().unwrap_or_else(|| "s3://?".into());
            (name, got)
        });
        let out = use_objects(&mut objects);
        drop(objects);
        match fetcher.join() {
            Ok(Ok(())) => Ok(out),
            Ok(Err(e)) => Err(CliError::S3(e.plain())),
            Err(_) => Err(CliError::S3("the S3 reader stopped".into())),
        }
    }
}
