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

/// Options that reach `uri`'s bucket: a region when none is set (bucket names are global), and
/// the bucket's own region when S3 says it is elsewhere.
fn reach(
    opts: crate::aws::AwsOptions,
    uri: &S3Uri,
) -> Result<(crate::aws::AwsReader, crate::aws::AwsOptions), CliError> {
    let here = uri.key_uri(&uri.prefix);
    let (reader, opts) = match crate::aws::connect_read_only(&opts) {
        Err(crate::aws::AwsError::NoRegion) => {
            let opts = crate::aws::AwsOptions {
                region: Some("us-east-1".into()),
                ..opts
            };
            (crate::aws::connect_read_only(&opts), opts)
        }
        r => (r, opts),
    };
    let reader = reader.map_err(|e| CliError::S3(format!("{here}: {e}")))?;
    match reader.s3_bucket_region(&uri.bucket) {
        Some(r) if Some(r.as_str()) != opts.region.as_deref() && opts.endpoint_url.is_none() => {
            let opts = crate::aws::AwsOptions {
                region: Some(r),
                ..opts
            };
            let reader = crate::aws::connect_read_only(&opts)
                .map_err(|e| CliError::S3(format!("{here}: {e}")))?;
            Ok((reader, opts))
        }
        _ => Ok((reader, opts)),
    }
}

/// The console's S3 sources among `inputs` (each kind walked along its service's layout),
/// their bucket reached before the terminal is taken.
pub fn console_sources(
    inputs: &[(&[PathBuf], &str)],
    opts: &crate::aws::AwsOptions,
) -> Result<Vec<crate::console::S3Source>, CliError> {
    let mut out = Vec::new();
    for (paths, service) in inputs {
        for uri in split(paths).1 {
            let (_, opts) = reach(opts.clone(), &uri)?;
            out.push(crate::console::S3Source {
                uri,
                opts,
                prune: Prune {
                    service: Some(service.to_string()),
                    ..Default::default()
                },
            });
        }
    }
    Ok(out)
}

/// The objects of one prefix, arriving.
pub struct Feed {
    names: Vec<PathBuf>,
    rx: Receiver<(usize, Result<Vec<u8>, String>)>,
    fetcher: std::thread::JoinHandle<Result<(), crate::actions::CallError>>,
    /// Where fetched objects are kept (`--cache DIR`), by index; `None` for those read from it.
    keep: Vec<Option<PathBuf>>,
    /// Objects read from the cache: index and content.
    cached: Vec<(usize, Vec<u8>)>,
}

/// Where `--cache DIR` keeps an object: `DIR/BUCKET/KEY` (the key's layout kept).
fn cache_path(dir: &std::path::Path, bucket: &str, key: &str) -> Option<PathBuf> {
    // A key is the bucket's; it must not climb out of the cache.
    if key.split('/').any(|p| p == ".." || p == ".") || key.starts_with('/') {
        return None;
    }
    Some(dir.join(bucket).join(key))
}

/// Lists `uri` (pruned by `prune`) and starts fetching; the listing's size and cost on stderr.
/// With `cache`, an object already kept there at its listed size is read from it instead, and
/// each fetched one is kept for the next run.
pub fn open(
    aws: &AwsTargets,
    uri: &S3Uri,
    prune: &Prune,
    cache: Option<&std::path::Path>,
) -> Result<Feed, CliError> {
    let here = uri.key_uri(&uri.prefix);
    let opts = crate::aws::AwsOptions {
        profile: aws.profiles.first().cloned(),
        region: aws.regions.first().cloned(),
        ..super::aws::base(aws)?
    };
    let (reader, _) = reach(opts, uri)?;
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
    let names = listing
        .objects
        .iter()
        .map(|o| uri.key_uri(&o.key).into())
        .collect();
    let mut keep = Vec::new();
    let mut cached = Vec::new();
    let mut fetch = Vec::new();
    for (i, o) in listing.objects.iter().enumerate() {
        let at = cache.and_then(|d| cache_path(d, &uri.bucket, &o.key));
        let hit = at
            .as_ref()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() == o.size))
            .and_then(|p| std::fs::read(p).ok());
        match hit {
            Some(bytes) => {
                cached.push((i, bytes));
                keep.push(None);
            }
            None => {
                fetch.push((i, o.key.clone()));
                keep.push(at);
            }
        }
    }
    if cache.is_some() {
        eprintln!(
            "vigil: s3: {} object(s) from the cache, {} to fetch",
            cached.len(),
            fetch.len()
        );
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(CONCURRENCY);
    let bucket = uri.bucket.clone();
    let fetcher = std::thread::spawn(move || {
        let keys: Vec<String> = fetch.iter().map(|(_, k)| k.clone()).collect();
        reader.s3_fetch(&bucket, &keys, CONCURRENCY, &mut |j, got| {
            let i = fetch.get(j).map_or(usize::MAX, |(i, _)| *i);
            let _ = tx.send((i, got.map_err(|e| e.plain())));
        })
    });
    Ok(Feed {
        names,
        rx,
        fetcher,
        keep,
        cached,
    })
}

impl Feed {
    /// Whether the listing holds CloudTrail digest files (their log files are then hashed).
    pub fn has_digests(&self) -> bool {
        self.names
            .iter()
            .any(|n| n.to_string_lossy().contains("/CloudTrail-Digest/"))
    }

    /// Hands every object to `use_objects` as it arrives (named by its `s3://` URI; an object
    /// that could not be fetched comes as why), printing progress once a second.
    pub fn consume<T>(
        self,
        use_objects: impl FnOnce(
            &mut (dyn Iterator<Item = (PathBuf, Result<Vec<u8>, String>)> + Send),
        ) -> T,
    ) -> Result<T, CliError> {
        let Feed {
            names,
            rx,
            fetcher,
            keep,
            cached,
        } = self;
        let total = names.len();
        let started = Instant::now();
        let (mut done, mut fetched, mut last) = (0usize, 0u64, Instant::now());
        let from_cache = cached.into_iter().map(|(i, b)| (i, Ok(b)));
        let mut objects = from_cache.chain(rx).map(move |(i, got)| {
            done += 1;
            if let Ok(b) = &got {
                fetched += b.len() as u64;
                // Kept for the next run; a cache that cannot be written only costs a fetch.
                if let Some(Some(p)) = keep.get(i) {
                    let _ = p
                        .parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|()| std::fs::write(p, b));
                }
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

/// The listing of a trail's bucket for its events only (pivot, hunt: no digests), pruned to the
/// window, accounts and regions asked for.
pub fn trail_events(
    window: crate::pivot::Window,
    accounts: &[String],
    regions: &[String],
) -> Prune {
    Prune {
        service: Some("CloudTrail".into()),
        window,
        accounts: accounts.to_vec(),
        regions: regions.to_vec(),
        digests: false,
    }
}
