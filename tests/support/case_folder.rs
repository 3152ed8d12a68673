//! A case folder as a responder keeps one: a GuardDuty export beside a CloudTrail log file, both
//! public fixtures, so one folder can be given as findings and as trail.

use std::path::Path;

/// A temporary folder holding the GuardDuty CLI example (`gd.json`, one finding) and Stratus Red
/// Team's `cloudtrail-stop` detonation (`trail.json`).
pub fn mixed() -> tempfile::TempDir {
    let fix = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/public");
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        (
            "aws-cli-examples/guardduty-get-findings-output.json",
            "gd.json",
        ),
        (
            "stratus-red-team/detonation-logs/aws.defense-evasion.cloudtrail-stop.json",
            "trail.json",
        ),
    ] {
        std::fs::copy(fix.join(from), dir.path().join(to)).unwrap();
    }
    dir
}
