//! The command line's types (clap derive). Parsing only: the sibling modules run the commands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "vigil",
    version,
    about = "A terminal incident-response console for AWS"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Play a bundled incident scenario: findings arrive over time, logs are there from the start
    Demo(DemoArgs),
    /// Investigate exported files in the console: findings at once, logs indexed in the background.
    /// Read-only unless --respond arms it to act on the AWS account
    Open(OpenArgs),
    /// Check or print keymaps
    Keymap {
        #[command(subcommand)]
        command: KeymapCommand,
    },
    /// Summarise an incident from exported findings and logs: findings, entities, relations, groups
    Analyze(AnalyzeArgs),
    /// Every CloudTrail event that names ENTITY_ID (kind:value), in time order
    Pivot(PivotArgs),
    /// Hunt through CloudTrail with Sigma rules — SigmaHQ's CloudTrail set and vigil's own
    /// (bundled), plus --rules DIR — one detection per rule and principal (or group, for
    /// threshold and sequence rules), with its ATT&CK tags, events and entities
    Hunt(HuntArgs),
    /// Respond: quarantine, release, snapshot, notify, disable-key, revoke-sessions, playbook.
    /// Prints the plan, asks for confirmation on the terminal (or --yes), acts, audits every call.
    Act {
        #[command(subcommand)]
        action: ActCommand,
    },
    /// The neighbourhood of ENTITY_ID in the entity graph
    Graph(GraphArgs),
    /// Stream GuardDuty findings live from every profile × region into the console (read-only);
    /// --headless prints one line per new or updated finding
    Live(LiveArgs),
    /// What the identity can do, per profile × region, without changing anything: credentials,
    /// GuardDuty, CloudTrail LookupEvents, Detective, the responder's permissions (DryRun, IAM
    /// policy simulation). Exit 0 when it ran, whatever it found
    Doctor(DoctorArgs),
    /// Replay a recorded session (`--record`): the same screens, no AWS call; space pauses, n
    /// steps, +/- speed, ]/[ seek 10 s, q quits. Or export it: an asciicast, the after-action report
    Replay(ReplayArgs),
    /// Recordings: redact an existing one
    Record {
        #[command(subcommand)]
        command: RecordCommand,
    },
    /// Who talked to an address, over months: one Athena query on the VPC flow logs table AWS
    /// documents; printed as flow log lines (for `analyze --flows`) or a table
    Flows(FlowsArgs),
    /// A training drill: a bundled scenario against the clock, with objectives (O) and hints that
    /// cost points (h); recorded, then scored from what was done, with an after-action report
    Train(TrainArgs),
    /// Case bundles: export what a case's response produced, every file hashed into one
    /// manifest; verify a bundle against it
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
}

// `vigil case`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Subcommand, Debug)]
pub enum CaseCommand {
    /// The case's audit log and actions, its findings, the CloudTrail events naming its entities,
    /// their entity subgraph (JSON and DOT) and the case's recordings, into DIR with manifest.json
    Export(Box<CaseExportArgs>),
    /// Recompute every file's SHA-256 against the bundle's manifest.json (or, for the case's
    /// folder of an evidence store, s3://BUCKET/PREFIX/CASE, every artefact against its manifest
    /// records); exit 3 on any difference (changed, missing or added)
    Verify {
        /// The bundle directory, or s3://BUCKET/PREFIX/CASE
        path: PathBuf,
        /// The manifest's SHA-256 as recorded when the bundle was made (export prints it)
        #[arg(long, value_name = "HEX")]
        manifest_sha256: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[derive(Args, Debug)]
pub struct CaseExportArgs {
    pub case: String,
    /// The bundle directory (created; must not exist or be empty), or the evidence store
    /// s3://BUCKET/PREFIX: the bundle goes under PREFIX/CASE/bundle/STAMP/ with a manifest record,
    /// planned and confirmed like an action (--yes, --dry-run, --read-only)
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub out: PathBuf,
    /// Do not ask for confirmation (an S3 export)
    #[arg(long)]
    pub yes: bool,
    /// Plan the S3 export only (S3 has no dry-run): nothing is written to the store
    #[arg(long)]
    pub dry_run: bool,
    /// Show the S3 export's plan and stop
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The audit log the case's actions were written to (default: vigil's own)
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Further entities the investigation touched (kind:value, repeat)
    #[arg(long = "entity", value_name = "KIND:VALUE")]
    pub entities: Vec<String>,
    /// Directories (or files) of recordings: those of this case go in
    #[arg(long, value_name = "PATH")]
    pub recordings: Vec<PathBuf>,
    /// Depth of each entity's subgraph
    #[arg(long, default_value_t = 1)]
    pub depth: u32,
    /// The evidence store whose manifest records of the case go in (evidence/; default
    /// VIGIL_EVIDENCE; the S3 export's own store)
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub evidence: Option<String>,
    #[command(flatten)]
    pub inputs: Inputs,
}

#[derive(Args, Debug, Clone)]
pub struct FlowsArgs {
    /// ip:ADDRESS
    pub entity: String,
    /// The VPC flow logs table ([database.]table)
    #[arg(long, value_name = "TABLE")]
    pub athena: String,
    #[arg(long, value_name = "NAME")]
    pub athena_workgroup: Option<String>,
    #[arg(long, value_name = "S3_URI")]
    pub athena_output: Option<String>,
    /// Only flows that started at or after this instant (RFC 3339)
    #[arg(long)]
    pub from: Option<String>,
    /// Only flows that started before this instant (RFC 3339)
    #[arg(long)]
    pub to: Option<String>,
    /// Stop the query if it has not finished after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub query_timeout: u64,
    #[arg(long, value_enum, default_value = "log")]
    pub format: FlowsFormat,
    #[command(flatten)]
    pub aws: AwsTargets,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowsFormat {
    /// Flow log lines (version 2, with the header): what `vigil analyze --flows` reads
    Log,
    Table,
}

#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    pub file: PathBuf,
    /// Playback speed (× real time)
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Start paused; each n (or →) applies one message
    #[arg(long)]
    pub step: bool,
    /// Start at this offset into the session (seconds, or m:ss)
    #[arg(long, value_name = "OFFSET")]
    pub from: Option<String>,
    /// Write an asciicast v2 file (asciinema's format) instead of playing
    #[arg(long, value_name = "OUT.cast")]
    pub export_cast: Option<PathBuf>,
    /// Write the after-action report (Markdown) instead of playing
    #[arg(long, value_name = "OUT.md")]
    pub export_report: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum RecordCommand {
    /// Replace account ids, access key ids, IP addresses, ARNs' account parts and user names by
    /// pseudonyms (the same value, the same pseudonym, throughout the file)
    Redact { input: PathBuf, output: PathBuf },
}

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Scenario name (`vigil demo --list`)
    pub scenario: String,
    /// Minutes; actions after it do not count
    #[arg(long, value_name = "MIN")]
    pub time_limit: Option<u64>,
    /// Playback speed of the scenario (default: paced, as `vigil demo`)
    #[arg(long)]
    pub speed: Option<f64>,
    #[command(flatten)]
    pub ui: UiArgs,
}

// `vigil doctor`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub aws: AwsTargets,
    #[arg(long, value_enum, default_value = "table")]
    pub format: DoctorFormat,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoctorFormat {
    Table,
    Json,
}

/// Where and as whom to read AWS: `live`, `pivot --live`, `doctor`.
#[derive(Args, Debug, Clone, Default)]
pub struct AwsTargets {
    /// Named profile from the AWS config files (repeat for several accounts; default: the SDK's
    /// default chain)
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Region to read (repeat for several; default: the profile's region)
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Every region enabled for the account (ec2:DescribeRegions), instead of --region
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,
    /// Endpoint URL for every service (emulators, VPC endpoints)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Assume this role (in every profile) with the credentials found
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The role's external id, when its trust policy asks for one
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,
    /// The MFA device the role's trust policy asks for (its ARN or serial): the code is asked for
    /// on the terminal before anything else, and the role assumed once for the session
    #[arg(long, value_name = "ARN", requires = "role_arn")]
    pub mfa_serial: Option<String>,
    /// The MFA code, for scripts (default: asked for on the terminal)
    #[arg(long, value_name = "CODE", requires = "mfa_serial")]
    pub mfa_code: Option<String>,
}

// `vigil live`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    #[command(flatten)]
    pub aws: AwsTargets,
    #[command(flatten)]
    pub hunt: ConsoleHunt,
    /// Seconds between polls
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub poll_interval: u64,
    /// Only findings of this severity or above (GuardDuty's 0-10 scale, e.g. 7 for high)
    #[arg(long, value_name = "N")]
    pub min_severity: Option<f64>,
    /// Also poll each region's Security Hub (GetFindings): Inspector, Macie, Config, IAM Access
    /// Analyzer and the rest (GuardDuty's copies are left out: GuardDuty is polled directly)
    #[arg(long)]
    pub securityhub: bool,
    /// Print findings as they arrive, one line each, instead of opening the console
    #[arg(long)]
    pub headless: bool,
    /// With --headless: poll once and exit
    #[arg(long, requires = "headless")]
    pub once: bool,
    /// CloudTrail logs for the local index, the trail's first answer (LookupEvents adds to it)
    #[arg(long, num_args = 1.., conflicts_with = "headless")]
    pub trail: Vec<PathBuf>,
    /// VPC flow logs, for the graph and the profiles
    #[arg(long, num_args = 1.., conflicts_with = "headless")]
    pub flows: Vec<PathBuf>,
    /// Route 53 Resolver query logs, for the graph and the profiles
    #[arg(long, num_args = 1.., conflicts_with = "headless")]
    pub dns: Vec<PathBuf>,
    /// The trail asks this CloudTrail Lake event data store (any entity, IPs included, any
    /// age) instead of LookupEvents
    #[arg(long, value_name = "EVENT_DATA_STORE", conflicts_with_all = ["headless", "athena"])]
    pub lake: Option<String>,
    /// The trail asks this Athena CloudTrail table instead of LookupEvents
    #[arg(long, value_name = "TABLE", conflicts_with = "headless")]
    pub athena: Option<String>,
    #[arg(long, value_name = "NAME", requires = "athena")]
    pub athena_workgroup: Option<String>,
    #[arg(long, value_name = "S3_URI", requires = "athena")]
    pub athena_output: Option<String>,
    /// (--respond acts with the first profile's credentials, in its first region.)
    #[command(flatten)]
    pub act: RespondArgs,
    #[command(flatten)]
    pub ui: UiArgs,
}

// `vigil demo`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Scenario name (default: the first, log4shell-c2); `--list` shows them
    pub scenario: Option<String>,
    /// Playback speed (× real time, exact proportions); default: the first finding within
    /// seconds, long quiet compressed (the status line says how much), about three minutes
    #[arg(long)]
    pub speed: Option<f64>,
    /// List the scenarios with their synopses
    #[arg(long)]
    pub list: bool,
    /// Print findings as they arrive, one line each, instead of opening the console
    #[arg(long)]
    pub headless: bool,
    /// No responder: action keys are refused (default: actions apply to the scenario's world)
    #[arg(long)]
    pub read_only: bool,
    /// Audit log of the console's actions (JSON Lines, appended; default
    /// $XDG_STATE_HOME/vigil/audit.jsonl; records are marked demo)
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Slack/Discord-compatible webhook for notify (also VIGIL_WEBHOOK_URL)
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    #[command(flatten)]
    pub ui: UiArgs,
}

// `vigil open`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct OpenArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub hunt: ConsoleHunt,
    #[command(flatten)]
    pub act: RespondArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub ui: UiArgs,
}

/// What the console hunts the loaded trail with (`open`, `live`): checked before it opens.
#[derive(Args, Debug, Clone, Default)]
pub struct ConsoleHunt {
    /// Sigma rules (a directory, read recursively) to hunt with besides the bundled ones; a rule
    /// that cannot be read stops the console from opening, with its file and line
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub lists: IntelArgs,
    /// Do not hunt the loaded trail
    #[arg(long, conflicts_with_all = ["rules", "intel", "trusted"])]
    pub no_hunt: bool,
}

/// Threat-intel and trusted lists (`hunt`, `open`, `live`).
#[derive(Args, Debug, Clone, Default)]
pub struct IntelArgs {
    /// Threat-intel lists (plain text one per line with # comments, CSV, or a STIX 2.1 bundle):
    /// CloudTrail calls from their addresses and CIDR blocks become detections
    #[arg(long = "intel", value_name = "FILE", num_args = 1..)]
    pub intel: Vec<PathBuf>,
    /// Trusted lists (same formats): calls from their addresses are not hunted (the count is
    /// said on stderr)
    #[arg(long = "trusted", value_name = "FILE", num_args = 1..)]
    pub trusted: Vec<PathBuf>,
    /// The CSV column holding the indicators (default: the first named indicator, value, ioc,
    /// ip, ip_address, address, domain or cidr)
    #[arg(long, value_name = "NAME")]
    pub intel_column: Option<String>,
}

/// Arming a console against the AWS account (`open`, `live`).
#[derive(Args, Debug, Clone)]
pub struct RespondArgs {
    /// Arm the console's action keys against the AWS account (checked with
    /// sts:GetCallerIdentity before the console opens); default: read-only, no responder
    #[arg(long)]
    pub respond: bool,
    /// Case id for tags and the audit log (default: vigil-YYYYMMDD)
    #[arg(long = "case", requires = "respond")]
    pub case: Option<String>,
    /// Audit log (JSON Lines, appended; default $XDG_STATE_HOME/vigil/audit.jsonl)
    #[arg(long, value_name = "PATH", requires = "respond")]
    pub audit_log: Option<PathBuf>,
    /// SNS topic for notify (also VIGIL_TOPIC_ARN)
    #[arg(long, value_name = "ARN", requires = "respond")]
    pub topic_arn: Option<String>,
    /// Slack/Discord-compatible webhook for notify (also VIGIL_WEBHOOK_URL)
    #[arg(long, value_name = "URL", requires = "respond")]
    pub webhook: Option<String>,
    /// Act on another account's finding (a GuardDuty administrator's member) by assuming this
    /// role in that account, from the responder's own credentials (e.g. IncidentResponder);
    /// without it such a finding's actions are refused
    #[arg(long, value_name = "NAME", requires = "respond")]
    pub respond_role: Option<String>,
}

// `vigil analyze`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: AnalyzeFormat,
    /// (For s3:// inputs: --profile, --endpoint-url, --role-arn; --region only picks the S3
    /// client's region when the bucket's cannot be asked.)
    #[command(flatten)]
    pub aws: AwsTargets,
}

// `vigil pivot`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct PivotArgs {
    /// For example ip:203.0.113.7, instance:i-0abc…, role:arn:aws:iam::123456789012:role/Web
    pub entity: String,
    /// CloudTrail files or directories (S3 .json.gz, JSON, JSON Lines, lookup-events output), or
    /// s3://BUCKET/PREFIX (a trail's bucket: only the days, accounts and regions asked for are
    /// listed)
    #[arg(long = "trail", num_args = 1.., required_unless_present_any = ["live", "lake", "athena"])]
    pub trail: Vec<PathBuf>,
    /// Only this account's logs from an S3 trail (repeat for several)
    #[arg(long = "account", value_name = "ACCOUNT")]
    pub account: Vec<String>,
    /// Keep the S3 objects read in DIR (DIR/BUCKET/KEY) and read them from there next time
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Ask CloudTrail Lake: one SQL query on this event data store (its id or ARN) over
    /// --from/--to, for any kind of entity, IPs included
    #[arg(long, value_name = "EVENT_DATA_STORE")]
    pub lake: Option<String>,
    /// Ask Athena: one SQL query on the CloudTrail table AWS documents for Athena
    /// ([database.]table, partition projection on region and timestamp), over --from/--to
    #[arg(long, value_name = "TABLE")]
    pub athena: Option<String>,
    /// The Athena workgroup (default: the account's primary)
    #[arg(long, value_name = "NAME", requires = "athena")]
    pub athena_workgroup: Option<String>,
    /// Where Athena writes the results (s3://…; default: the workgroup's setting)
    #[arg(long, value_name = "S3_URI", requires = "athena")]
    pub athena_output: Option<String>,
    /// Cancel a Lake or Athena query that has not finished after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub query_timeout: u64,
    /// Also ask CloudTrail's LookupEvents API (the last 90 days, every profile × region), merged
    /// with --trail and deduplicated by event id
    #[arg(long)]
    pub live: bool,
    #[command(flatten)]
    pub aws: AwsTargets,
    /// Only events at or after this instant (RFC 3339; an impossible date is a usage error)
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this instant (RFC 3339)
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: PivotFormat,
    /// Exit with status 2 if any record could not be read
    #[arg(long)]
    pub strict: bool,
    /// List every record that could not be read (default: the first 5 of each kind per
    /// file, then a count)
    #[arg(long)]
    pub verbose: bool,
}

// `vigil hunt`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct HuntArgs {
    /// CloudTrail files or directories (as for pivot), or s3://BUCKET/PREFIX
    #[arg(long = "trail", num_args = 1.., required_unless_present_any = ["list_rules", "flows", "dns"])]
    pub trail: Vec<PathBuf>,
    /// VPC flow logs checked against the --intel lists (traffic to or from a listed address)
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub flows: Vec<PathBuf>,
    /// Route 53 Resolver query logs checked against the --intel lists (a listed domain queried,
    /// or answered with a listed address)
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub dns: Vec<PathBuf>,
    /// A directory of Sigma rules (YAML, read recursively) run with the bundled ones (repeat for
    /// several); a rule that cannot be read is reported with its file and line
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Run only the rules of --rules, not the bundled ones
    #[arg(long, requires = "rules")]
    pub no_bundled: bool,
    /// List the rules that would run (id, level, ATT&CK, title, author, file) and exit
    #[arg(long)]
    pub list_rules: bool,
    #[command(flatten)]
    pub lists: IntelArgs,
    /// Only this account's logs from an S3 trail (repeat for several)
    #[arg(long = "account", value_name = "ACCOUNT")]
    pub account: Vec<String>,
    /// Keep the S3 objects read in DIR (DIR/BUCKET/KEY) and read them from there next time
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsTargets,
    /// Only events at or after this instant (RFC 3339)
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this instant (RFC 3339)
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: HuntFormat,
    /// Exit with status 2 if any record or rule could not be read
    #[arg(long)]
    pub strict: bool,
    /// List every record that could not be read (default: the first 5 of each kind per
    /// file, then a count)
    #[arg(long)]
    pub verbose: bool,
}

// `vigil graph`. A plain comment: the command's help is the variant's doc comment above.
#[derive(Args, Debug, Clone)]
pub struct GraphArgs {
    pub entity: String,
    #[arg(long, default_value_t = 1)]
    pub depth: u32,
    #[command(flatten)]
    pub inputs: Inputs,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// (For s3:// inputs.)
    #[command(flatten)]
    pub aws: AwsTargets,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Inputs {
    /// GuardDuty or Security Hub (ASFF) findings: files, directories (any envelope, JSON or JSON
    /// Lines, .gz), or s3://BUCKET/PREFIX (GuardDuty's export)
    #[arg(long, num_args = 1..)]
    pub findings: Vec<PathBuf>,
    /// CloudTrail logs (files, directories — also as CloudWatch Logs delivers them — or
    /// s3://BUCKET/PREFIX)
    #[arg(long, num_args = 1..)]
    pub trail: Vec<PathBuf>,
    /// VPC flow logs (files, directories, or s3://BUCKET/PREFIX)
    #[arg(long, num_args = 1..)]
    pub flows: Vec<PathBuf>,
    /// Route 53 Resolver query logs (files, directories, or s3://BUCKET/PREFIX)
    #[arg(long, num_args = 1..)]
    pub dns: Vec<PathBuf>,
    /// Keep the S3 objects read in DIR (DIR/BUCKET/KEY) and read them from there next time
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Exit with status 2 if any record could not be read, 3 if a CloudTrail log file (or a
    /// previous digest) differs from what its digest file says
    #[arg(long)]
    pub strict: bool,
    /// List every record that could not be read (default: the first 5 of each kind per file,
    /// then a count)
    #[arg(long)]
    pub verbose: bool,
}

impl Inputs {
    /// Every path; the content decides what each file is, the flag only documents intent.
    pub fn all(&self) -> Vec<PathBuf> {
        self.findings
            .iter()
            .chain(&self.trail)
            .chain(&self.flows)
            .chain(&self.dns)
            .cloned()
            .collect()
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyzeFormat {
    Json,
    Markdown,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotFormat {
    Jsonl,
    Table,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntFormat {
    Jsonl,
    Table,
    Markdown,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

/// How the console draws and which keys it uses.
#[derive(Args, Debug, Clone, Default)]
pub struct UiArgs {
    /// A keymap file laid over the default (per context; `cmd = "noop"` unbinds)
    #[arg(long, value_name = "FILE")]
    pub keymap: Option<PathBuf>,
    /// No colours (also when the NO_COLOR environment variable is set)
    #[arg(long)]
    pub no_color: bool,
    /// Draw with ASCII only: no box-drawing or other non-ASCII symbols
    #[arg(long)]
    pub ascii: bool,
    /// Record the session to FILE (JSON Lines; gzip when it ends in .gz) for `vigil replay`
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Replace account ids, access key ids, addresses and user names in the recording
    #[arg(long, requires = "record")]
    pub redact: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeymapCommand {
    /// Validate a keymap file (exit 2 with file:line on the first error)
    Check { file: PathBuf },
    /// Print the active keymap as TOML (the default, or with --keymap laid over it)
    Print {
        /// Only this context (global, findings, detail, graph, profile, trail, event, help, confirm, input)
        #[arg(long)]
        context: Option<String>,
        #[arg(long, value_name = "FILE")]
        keymap: Option<PathBuf>,
    },
}

/// The response actions (`vigil act ...`).
#[derive(Subcommand, Debug)]
pub enum ActCommand {
    /// Isolate an instance: per ENI, untrack then contain group; termination protection; tags
    Quarantine {
        instance: String,
        /// An instance in an auto-scaling group: standby (out of service, kept; release puts it
        /// back), detach (out of the group for good) or leave (the group may terminate it)
        #[arg(long, value_enum, default_value = "standby")]
        asg: AsgChoice,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Restore a quarantined instance's original groups on every ENI
    Release {
        instance: String,
        /// Also turn termination protection off
        #[arg(long)]
        unprotect: bool,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Crash-consistent snapshots of every attached volume, tagged with the case
    Snapshot {
        instance: String,
        /// The finding that prompted it (goes into the snapshot tags)
        #[arg(long)]
        finding: Option<String>,
        /// Also record the snapshot ids in the evidence store (PREFIX/CASE/snapshots/, with a
        /// manifest record; default VIGIL_EVIDENCE)
        #[arg(long, value_name = "s3://BUCKET/PREFIX")]
        evidence: Option<String>,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Publish a finding to the SNS topic (--topic-arn or VIGIL_TOPIC_ARN)
    Notify {
        finding: String,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Let the forensics account create volumes from the case's snapshots of the instance
    /// (encrypted ones are listed with how to copy them under the forensics key)
    ShareSnapshots {
        instance: String,
        /// The forensics account (12 digits)
        #[arg(long, value_name = "ACCOUNT")]
        forensics_account: String,
        /// A KMS key the forensics account may use (ARN or id): encrypted snapshots are copied
        /// under it (CopySnapshot) and the copies shared
        #[arg(long, value_name = "KMS_KEY")]
        forensics_key: Option<String>,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Gather the instance's volatile artefacts with SSM Run Command (processes, connections,
    /// logins, shell histories, crontabs, systemd units, /tmp and /dev/shm, kernel modules) into
    /// the evidence store; follows the invocation to its end
    Collect {
        instance: String,
        /// The evidence store: the output goes under PREFIX/CASE/collect/INSTANCE/
        #[arg(long, value_name = "s3://BUCKET/PREFIX")]
        evidence: Option<String>,
        /// The team's memory capture command, run on the instance after the volatile artefacts
        /// with $VIGIL_S3 set to the output folder (vigil ships no capture tool), e.g.
        /// "avml /var/tmp/m.lime && aws s3 cp /var/tmp/m.lime ${VIGIL_S3}memory.lime"
        #[arg(long, value_name = "COMMAND")]
        memory_command: Option<String>,
        /// How long to follow the invocation (GetCommandInvocation) before saying it is still
        /// running
        #[arg(long, value_name = "SECONDS", default_value_t = 600)]
        wait: u64,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Take the instance profile off an instance: its role's credentials stop being renewed
    /// there (recorded on the instance; release gives it back)
    DetachProfile {
        instance: String,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Deactivate a long-term (AKIA) access key; reversible, never deleted
    DisableKey {
        key: String,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Deny every session of a role issued before now (AWSRevokeOlderSessions)
    RevokeSessions {
        /// Role ARN or name
        role: String,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Answer NXDOMAIN for a domain and its subdomains in a VPC (Route 53 Resolver DNS Firewall)
    BlockDomain {
        domain: String,
        /// The VPC whose resolver queries to block
        #[arg(long, value_name = "VPC_ID")]
        vpc: Option<String>,
        /// Or: the instance whose VPC it is
        #[arg(long, value_name = "INSTANCE_ID", conflicts_with = "vpc")]
        instance: Option<String>,
        #[command(flatten)]
        common: ActArgs,
    },
    /// Deny all traffic with addresses or CIDR blocks in a subnet's network ACL, both ways
    /// (stateless: open connections are cut too)
    BlockIp(BlockIpArgs),
    /// Remove the deny entries block-ip added for these addresses (and take them out of the WAF
    /// IP set)
    UnblockIp(BlockIpArgs),
    /// Run a playbook (default: notify → collect → snapshot → quarantine) as one plan with one confirmation
    Playbook {
        instance: String,
        /// The finding to notify about
        #[arg(long)]
        finding: Option<String>,
        /// A playbook TOML file (default: the bundled playbooks/default.toml)
        #[arg(long, value_name = "FILE")]
        playbook: Option<PathBuf>,
        /// The evidence store collect writes to (without one, collect is skipped and said)
        #[arg(long, value_name = "s3://BUCKET/PREFIX")]
        evidence: Option<String>,
        /// What quarantine does about an auto-scaling group (see `vigil act quarantine --help`)
        #[arg(long, value_enum, default_value = "standby")]
        asg: AsgChoice,
        #[command(flatten)]
        common: ActArgs,
    },
}

/// A WAF IP set's scope.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum WafScope {
    Regional,
    Cloudfront,
}

/// What block-ip and unblock-ip act on.
#[derive(Args, Debug, Clone)]
pub struct BlockIpArgs {
    /// Addresses or CIDR blocks
    #[arg(required = true, num_args = 1..)]
    pub ips: Vec<String>,
    /// The subnet whose network ACL to change
    #[arg(long, value_name = "SUBNET_ID")]
    pub subnet: Option<String>,
    /// Or: the instance whose subnet it is
    #[arg(long, value_name = "INSTANCE_ID", conflicts_with = "subnet")]
    pub instance: Option<String>,
    /// Also (or only) the WAF IP set a web ACL rule blocks on
    #[arg(long, value_name = "NAME")]
    pub waf_ip_set: Option<String>,
    /// The IP set's scope (CLOUDFRONT sets live in us-east-1)
    #[arg(long, value_enum, default_value = "regional")]
    pub waf_scope: WafScope,
    #[command(flatten)]
    pub common: ActArgs,
}

/// Options every action takes.
#[derive(Args, Debug, Clone, Default)]
pub struct ActArgs {
    /// Case id for tags and the audit log (default: vigil-YYYYMMDD)
    #[arg(long = "case")]
    pub case: Option<String>,
    /// EC2 calls with the API's DryRun flag; other calls are planned only. Nothing changes.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Show the plan and stop: no responder is created, so nothing can change
    #[arg(long)]
    pub read_only: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ActFormat,
    /// Audit log (JSON Lines, appended; default $XDG_STATE_HOME/vigil/audit.jsonl)
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// SNS topic for notify (also VIGIL_TOPIC_ARN)
    #[arg(long, value_name = "ARN")]
    pub topic_arn: Option<String>,
    /// Slack/Discord-compatible webhook for notify (also VIGIL_WEBHOOK_URL); a secret: the audit
    /// log records only its host
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Findings files, to describe the finding in a notification
    #[arg(long, num_args = 1..)]
    pub findings: Vec<PathBuf>,
    /// Act on a bundled scenario's world through the demo responder instead of AWS
    #[arg(long, value_name = "SCENARIO")]
    pub demo: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Where and as whom to reach AWS.
#[derive(Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// Named profile from the AWS config files
    #[arg(long)]
    pub profile: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint URL for every service (emulators, VPC endpoints)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AsgChoice {
    #[default]
    Standby,
    Detach,
    Leave,
}

impl From<AsgChoice> for crate::actions::AsgMode {
    fn from(c: AsgChoice) -> Self {
        match c {
            AsgChoice::Standby => crate::actions::AsgMode::Standby,
            AsgChoice::Detach => crate::actions::AsgMode::Detach,
            AsgChoice::Leave => crate::actions::AsgMode::Leave,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActFormat {
    #[default]
    Text,
    Json,
}
