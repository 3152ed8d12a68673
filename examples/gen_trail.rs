//! Generates large, realistic CloudTrail input for the pivot benchmark.
//!
//! ```text
//! cargo run --release --example gen_trail -- N DIR [--seed S]
//! ```
//!
//! Writes `N` events as S3-delivered CloudTrail files
//! `DIR/AWSLogs/ACCT/CloudTrail/REGION/YYYY/MM/DD/ACCT_CloudTrail_REGION_YYYYMMDDTHHMMZ_XXXXXXXXXXXXXXXX.json.gz`,
//! each one line `{"Records":[...]}` of 10 000 records (~1 KB each). Thousands of users, roles,
//! instances and addresses with Zipf-like popularity; output is a pure function of `N` and the
//! seed. The last line of stdout (also written to `DIR/.pivots`, which loaders skip as hidden)
//! names entities worth pivoting on:
//!
//! ```text
//! PIVOTS frequent_ip=A rare_ip=B instance=C role=D frequent_ip_count=.. rare_ip_count=.. ...
//! ```
//!
//! The named IPs are never written in a leading-zero form, so a plain string comparison (jq,
//! DuckDB) finds exactly the events `vigil pivot ip:…` does.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

const PER_FILE: usize = 10_000;
/// 2024-03-01T00:00:00Z.
const START: i64 = 1_709_251_200;
/// Seconds between consecutive events (30 days for a million events).
const STEP_MS: i64 = 2_592;

// ---------------------------------------------------------------- PRNG

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, n)`.
    fn below(&mut self, n: usize) -> usize {
        // u128: a 32-bit fraction times a large n overflows u64 (a debug build panics on it).
        ((u128::from(self.next() >> 32) * n as u128) >> 32) as usize
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// `n` characters from `alphabet`.
    fn chars(&mut self, out: &mut String, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            out.push(alphabet[self.below(alphabet.len())] as char);
        }
    }
    fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.chars(&mut s, alphabet, n);
        s
    }
    fn uuid(&mut self, out: &mut String) {
        let (a, b) = (self.next(), self.next());
        let _ = write!(
            out,
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
    }
}

const HEX: &[u8] = b"0123456789abcdef";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Zipf-like popularity over `n` items: item `k` has weight `1/(k+1)^s`.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (0..n)
            .map(|k| {
                acc += 1.0 / ((k + 1) as f64).powf(s);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

// ---------------------------------------------------------------- the world

struct User {
    name: String,
    id: String,
    key: String,
    /// Index into `World::ips` of the user's usual address.
    home_ip: usize,
}

struct Role {
    name: String,
    id: String,
    account: usize,
}

struct Instance {
    id: String,
    role: usize,
    ip: usize,
}

enum Ip {
    V4([u8; 4]),
    V6([u16; 8]),
}

struct World {
    accounts: Vec<String>,
    regions: Vec<&'static str>,
    users: Vec<User>,
    roles: Vec<Role>,
    /// Roles `0..instance_roles` are EC2 instance profiles.
    instance_roles: usize,
    instances: Vec<Instance>,
    ips: Vec<Ip>,
    buckets: Vec<String>,
    kms_keys: Vec<String>,
    sgs: Vec<String>,
    volumes: Vec<String>,
    amis: Vec<String>,
    user_z: Zipf,
    role_z: Zipf,
    inst_z: Zipf,
    ip_z: Zipf,
    bucket_z: Zipf,
    key_z: Zipf,
}

const FIRST: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yasmin", "zoe",
    "arjun", "mei", "sofia", "lars", "ines", "kofi", "aiko", "pablo", "nina",
];
const LAST: &[&str] = &[
    "smith", "jones", "garcia", "chen", "kumar", "muller", "rossi", "tanaka", "silva", "novak",
    "okafor", "larsen", "dubois", "kowalski", "ivanova", "haddad", "nguyen", "oconnor", "berg",
    "moreau",
];
const TEAMS: &[&str] = &[
    "platform",
    "payments",
    "data",
    "ml",
    "web",
    "api",
    "search",
    "ledger",
    "auth",
    "billing",
    "etl",
    "reporting",
    "mobile",
    "infra",
    "security",
    "observability",
];
const ROLE_KINDS: &[&str] = &[
    "Deploy",
    "ReadOnly",
    "Admin",
    "Lambda",
    "Ecs-Task",
    "Glue",
    "Terraform",
    "Backup",
    "Audit",
    "CI",
    "Ops",
    "Support",
];
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-1",
    "us-east-1",
    "us-west-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];
const USER_AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.213-201.855.amzn2.x86_64 exe/x86_64.amzn.2",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux",
    "Boto3/1.34.58 md/Botocore#1.34.58 ua/2.0 os/linux#5.10.213 lang/python#3.11.8",
    "aws-sdk-java/1.12.670 Linux/5.10.213-201.855.amzn2.x86_64 java/17.0.10",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 terraform-provider-aws/5.40.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/122.0.0.0",
    "console.amazonaws.com",
    "aws-sdk-js/3.529.1 ua/2.0 os/linux#5.10.209 lang/js md/nodejs#20.11.1",
    "S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488",
    "[aws-cli/1.32.58 md/Botocore#1.34.58 ua/2.0 os/linux#6.5.0-1014-aws]",
    "python-requests/2.31.0",
    "curl/8.6.0",
];
const SERVICES: &[&str] = &[
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "s3.amazonaws.com",
    "cloudformation.amazonaws.com",
    "autoscaling.amazonaws.com",
    "config.amazonaws.com",
    "ssm.amazonaws.com",
];

impl World {
    fn new(seed: u64) -> World {
        let mut r = Rng::new(seed);
        let accounts: Vec<String> = (0..6)
            .map(|_| format!("{:012}", 100_000_000_000 + r.below(899_999_999_999)))
            .collect();
        let n_ips = 24_000;
        let ips: Vec<Ip> = (0..n_ips)
            .map(|i| {
                if i % 97 == 50 {
                    let mut g = [0u16; 8];
                    g[0] = 0x2600;
                    g[1] = 0x1f18;
                    for x in &mut g[2..] {
                        *x = 0x1000 + r.below(0xefff) as u16;
                    }
                    Ip::V6(g)
                } else {
                    Ip::V4(public_v4(&mut r))
                }
            })
            .collect();
        let users = (0..3_000)
            .map(|i| {
                let name = format!("{}.{}{}", r.pick(FIRST), r.pick(LAST), i);
                User {
                    id: format!("AIDA{}", r.string(UPPER_DIGITS, 17)),
                    key: format!("AKIA{}", r.string(UPPER_DIGITS, 16)),
                    home_ip: r.below(n_ips),
                    name,
                }
            })
            .collect();
        let instance_roles = 1_200;
        let roles = (0..3_000)
            .map(|i| {
                let name = if i < instance_roles {
                    format!("{}-ec2-{i}", r.pick(TEAMS))
                } else {
                    format!("{}-{}-{i}", r.pick(TEAMS), r.pick(ROLE_KINDS))
                };
                Role {
                    name,
                    id: format!("AROA{}", r.string(UPPER_DIGITS, 17)),
                    account: if r.chance(0.85) { 0 } else { 1 + r.below(5) },
                }
            })
            .collect();
        let instances = (0..8_000)
            .map(|_| Instance {
                id: format!("i-0{}", r.string(HEX, 16)),
                role: r.below(instance_roles),
                ip: r.below(n_ips),
            })
            .collect();
        let buckets = (0..1_500)
            .map(|i| {
                format!(
                    "{}-{}-{}-{}",
                    r.pick(TEAMS),
                    r.pick(&[
                        "logs",
                        "artifacts",
                        "backups",
                        "assets",
                        "exports",
                        "tfstate",
                        "raw"
                    ]),
                    r.pick(REGIONS),
                    i
                )
            })
            .collect();
        let mut kms_keys = Vec::new();
        for _ in 0..600 {
            let mut k = String::new();
            r.uuid(&mut k);
            kms_keys.push(k);
        }
        let sgs = (0..4_000)
            .map(|_| format!("sg-0{}", r.string(HEX, 16)))
            .collect();
        let volumes = (0..6_000)
            .map(|_| format!("vol-0{}", r.string(HEX, 16)))
            .collect();
        let amis = (0..300)
            .map(|_| format!("ami-0{}", r.string(HEX, 16)))
            .collect();
        World {
            accounts,
            regions: REGIONS.to_vec(),
            users,
            roles,
            instance_roles,
            instances,
            ips,
            buckets,
            kms_keys,
            sgs,
            volumes,
            amis,
            user_z: Zipf::new(3_000, 1.0),
            role_z: Zipf::new(3_000 - instance_roles, 1.0),
            inst_z: Zipf::new(8_000, 0.9),
            ip_z: Zipf::new(n_ips, 1.05),
            bucket_z: Zipf::new(1_500, 1.0),
            key_z: Zipf::new(600, 1.0),
        }
    }
}

fn public_v4(r: &mut Rng) -> [u8; 4] {
    loop {
        let o = [
            1 + r.below(222) as u8,
            r.below(256) as u8,
            r.below(256) as u8,
            1 + r.below(254) as u8,
        ];
        let private = o[0] == 10
            || o[0] == 127
            || (o[0] == 172 && (16..32).contains(&o[1]))
            || (o[0] == 192 && o[1] == 168)
            || (o[0] == 169 && o[1] == 254)
            || (o[0] == 100 && (64..128).contains(&o[1]));
        if !private {
            return o;
        }
    }
}

/// Addresses `i % 16 == 5` are sometimes written with leading zeros (`075.050.255.067`), as some
/// log pipelines do; the pivots printed at the end avoid them.
fn zero_padded_sometimes(i: usize) -> bool {
    i % 16 == 5
}

fn write_ip(out: &mut String, w: &World, i: usize, r: &mut Rng) {
    match &w.ips[i] {
        Ip::V4(o) => {
            if zero_padded_sometimes(i) && r.chance(0.5) {
                let _ = write!(out, "{:03}.{:03}.{:03}.{:03}", o[0], o[1], o[2], o[3]);
            } else {
                let _ = write!(out, "{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
            }
        }
        Ip::V6(g) => {
            for (k, x) in g.iter().enumerate() {
                if k > 0 {
                    out.push(':');
                }
                let _ = write!(out, "{x:x}");
            }
        }
    }
}

fn ip_string(w: &World, i: usize) -> String {
    let mut s = String::new();
    let mut r = Rng::new(0);
    match &w.ips[i] {
        Ip::V4(o) => {
            let _ = write!(s, "{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
        }
        Ip::V6(_) => write_ip(&mut s, w, i, &mut r),
    }
    s
}

// ---------------------------------------------------------------- time

fn write_time(out: &mut String, secs: i64) {
    out.push_str(&vigil::model::Ts(secs * 1000).to_rfc3339_secs());
}

// ---------------------------------------------------------------- records

/// Counters for choosing pivots at the end.
#[derive(Default)]
struct Counts {
    ips: HashMap<usize, u64>,
    instances: HashMap<usize, u64>,
    roles: HashMap<usize, u64>,
}

#[derive(Clone)]
enum Actor {
    /// An EC2 instance using its instance-profile role; the session is named after the instance.
    Instance(usize),
    /// A person or pipeline in an assumed role.
    Session {
        role: usize,
        session: String,
        ip: usize,
    },
    User {
        user: usize,
        ip: usize,
    },
    Service(&'static str),
    Root {
        ip: usize,
    },
}

struct Gen<'w> {
    w: &'w World,
    r: Rng,
    counts: Counts,
    /// The last few actors: API calls come in bursts from the same principal.
    recent: Vec<(Actor, f64)>,
    last: usize,
}

impl Gen<'_> {
    /// The acting principal and a selector for the kind of call it makes.
    fn actor(&mut self) -> (Actor, f64) {
        let x = self.r.unit();
        if self.recent.len() == 8 && x < 0.7 {
            // Often the very same principal as just now, else one of the recently active ones,
            // and often repeating the same kind of call (a burst of Describe*, say).
            let k = if x < 0.35 { self.last } else { self.r.below(8) };
            self.last = k;
            let (a, sel) = self.recent[k].clone();
            let sel = if self.r.chance(0.6) {
                sel
            } else {
                self.r.unit()
            };
            return (a, sel);
        }
        let a = (self.new_actor(), self.r.unit());
        if self.recent.len() == 8 {
            self.last = self.r.below(8);
            self.recent[self.last] = a.clone();
        } else {
            self.last = self.recent.len();
            self.recent.push(a.clone());
        }
        a
    }

    fn new_actor(&mut self) -> Actor {
        let w = self.w;
        let x = self.r.unit();
        if x < 0.20 {
            Actor::Instance(w.inst_z.sample(&mut self.r))
        } else if x < 0.32 {
            let role = w.instance_roles + w.role_z.sample(&mut self.r);
            let session = match self.r.below(4) {
                0 => format!(
                    "botocore-session-{}",
                    1_709_000_000 + self.r.below(3_000_000)
                ),
                1 => {
                    let u = &w.users[w.user_z.sample(&mut self.r)];
                    u.name.clone()
                }
                2 => format!("GitHubActions-{}", 1_000_000 + self.r.below(9_000_000)),
                _ => "terraform".to_string(),
            };
            Actor::Session {
                role,
                session,
                ip: w.ip_z.sample(&mut self.r),
            }
        } else if x < 0.66 {
            let user = w.user_z.sample(&mut self.r);
            let ip = if self.r.chance(0.6) {
                w.users[user].home_ip
            } else {
                w.ip_z.sample(&mut self.r)
            };
            Actor::User { user, ip }
        } else if x < 0.985 {
            let service: &'static str = self.r.pick::<&str>(SERVICES);
            Actor::Service(service)
        } else {
            Actor::Root {
                ip: w.ip_z.sample(&mut self.r),
            }
        }
    }

    /// The short-lived key of a role session: stable for six hours, like real credentials.
    fn session_key(&self, who: &str, secs: i64) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (secs / 21_600) as u64;
        for b in who.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        let mut r = Rng::new(h);
        format!("ASIA{}", r.string(UPPER_DIGITS, 16))
    }

    fn user_identity(&mut self, out: &mut String, actor: &Actor, secs: i64) {
        let w = self.w;
        let acct = &w.accounts[0];
        match actor {
            Actor::Instance(i) => {
                let inst = &w.instances[*i];
                *self.counts.instances.entry(*i).or_default() += 1;
                *self.counts.roles.entry(inst.role).or_default() += 1;
                self.role_identity(out, inst.role, &inst.id, secs, true);
            }
            Actor::Session { role, session, .. } => {
                *self.counts.roles.entry(*role).or_default() += 1;
                let session = session.clone();
                self.role_identity(out, *role, &session, secs, false);
            }
            Actor::User { user, .. } => {
                let u = &w.users[*user];
                let _ = write!(
                    out,
                    r#"{{"type":"IAMUser","principalId":"{}","arn":"arn:aws:iam::{acct}:user/{}","accountId":"{acct}","accessKeyId":"{}","userName":"{}""#,
                    u.id, u.name, u.key, u.name
                );
                if self.r.chance(0.1) {
                    out.push_str(r#","sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":""#);
                    write_time(out, secs - self.r.below(20_000) as i64);
                    out.push_str(r#"","mfaAuthenticated":"true"}}"#);
                }
                out.push('}');
            }
            Actor::Service(s) => {
                let _ = write!(out, r#"{{"type":"AWSService","invokedBy":"{s}"}}"#);
            }
            Actor::Root { .. } => {
                let _ = write!(
                    out,
                    r#"{{"type":"Root","principalId":"{acct}","arn":"arn:aws:iam::{acct}:root","accountId":"{acct}","accessKeyId":"{}"}}"#,
                    self.session_key("root", secs)
                );
            }
        }
    }

    fn role_identity(
        &mut self,
        out: &mut String,
        role: usize,
        session: &str,
        secs: i64,
        ec2: bool,
    ) {
        let w = self.w;
        let ro = &w.roles[role];
        let acct = &w.accounts[ro.account];
        let key = self.session_key(session, secs);
        let _ = write!(
            out,
            r#"{{"type":"AssumedRole","principalId":"{}:{session}","arn":"arn:aws:sts::{acct}:assumed-role/{}/{session}","accountId":"{acct}","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{}","arn":"arn:aws:iam::{acct}:role/{}","accountId":"{acct}","userName":"{}"}},"attributes":{{"creationDate":""#,
            ro.id, ro.name, ro.id, ro.name, ro.name
        );
        write_time(out, secs - secs.rem_euclid(21_600));
        out.push_str(r#"","mfaAuthenticated":"false"}"#);
        if ec2 {
            out.push_str(r#","ec2RoleDelivery":"2.0""#);
        }
        out.push_str("}}");
    }

    /// One record, appended to `out`.
    fn record(&mut self, out: &mut String, secs: i64, region: &str) {
        let w = self.w;
        let (actor, sel) = self.actor();
        let (ip, ua): (Option<usize>, &str) = match &actor {
            Actor::Instance(i) => (
                Some(w.instances[*i].ip),
                USER_AGENTS[[1, 2, 3, 7][w.instances[*i].role % 4]],
            ),
            Actor::Session { ip, .. } => (Some(*ip), USER_AGENTS[[0, 2, 4, 4, 9][self.r.below(5)]]),
            Actor::User { ip, .. } => (
                Some(*ip),
                USER_AGENTS[[0, 5, 6, 9, 10, 11][self.r.below(6)]],
            ),
            Actor::Service(s) => (None, s),
            Actor::Root { ip } => (Some(*ip), USER_AGENTS[5]),
        };
        let mut idbuf = String::with_capacity(700);
        self.user_identity(&mut idbuf, &actor, secs);

        let ev = self.event(&actor, region, sel);
        out.push_str(r#"{"eventVersion":"1.09","userIdentity":"#);
        out.push_str(&idbuf);
        out.push_str(r#","eventTime":""#);
        write_time(out, secs);
        let _ = write!(
            out,
            r#"","eventSource":"{}.amazonaws.com","eventName":"{}","awsRegion":"{region}","sourceIPAddress":""#,
            ev.service, ev.name
        );
        match ip {
            Some(i) => {
                *self.counts.ips.entry(i).or_default() += 1;
                write_ip(out, w, i, &mut self.r);
            }
            None => out.push_str(if self.r.chance(0.3) {
                "AWS Internal"
            } else {
                ua
            }),
        }
        let _ = write!(out, r#"","userAgent":"{ua}""#);
        let failed = self.r.chance(0.03);
        if failed {
            let (code, msg) = match ev.service {
                "ec2" => (
                    "Client.UnauthorizedOperation",
                    "You are not authorized to perform this operation.",
                ),
                "s3" => ("AccessDenied", "Access Denied"),
                "kms" => (
                    "AccessDeniedException",
                    "User is not authorized to perform: kms:Decrypt on this resource because no identity-based policy allows the kms:Decrypt action",
                ),
                _ => (
                    "AccessDenied",
                    "User is not authorized to perform this action because no identity-based policy allows it",
                ),
            };
            let _ = write!(out, r#","errorCode":"{code}","errorMessage":"{msg}""#);
        }
        out.push_str(r#","requestParameters":"#);
        out.push_str(ev.request.as_deref().unwrap_or("null"));
        out.push_str(r#","responseElements":"#);
        match (&ev.response, failed) {
            (Some(r), false) => out.push_str(r),
            _ => out.push_str("null"),
        }
        if let Some(extra) = &ev.additional {
            let _ = write!(out, r#","additionalEventData":{extra}"#);
        }
        out.push_str(r#","requestID":""#);
        if ev.service == "s3" {
            self.r.chars(out, b"0123456789ABCDEF", 16);
        } else {
            self.r.uuid(out);
        }
        out.push_str(r#"","eventID":""#);
        self.r.uuid(out);
        let _ = write!(out, r#"","readOnly":{}"#, ev.read_only);
        if let Some(res) = &ev.resources {
            let _ = write!(out, r#","resources":{res}"#);
        }
        let recipient = match &actor {
            Actor::Instance(i) => &w.accounts[w.roles[w.instances[*i].role].account],
            Actor::Session { role, .. } => &w.accounts[w.roles[*role].account],
            _ => &w.accounts[0],
        };
        let _ = write!(
            out,
            r#","eventType":"{}","managementEvent":{},"recipientAccountId":"{recipient}","eventCategory":"{}""#,
            ev.event_type,
            !ev.data,
            if ev.data { "Data" } else { "Management" }
        );
        // Calls through the console or from inside AWS carry no TLS details.
        if ev.event_type == "AwsApiCall"
            && !matches!(actor, Actor::Service(_))
            && self.r.chance(0.55)
        {
            let host = if ev.service == "s3" && !ev.bucket.is_empty() {
                format!("{}.s3.{region}.amazonaws.com", ev.bucket)
            } else if ev.service == "iam" {
                "iam.amazonaws.com".to_string()
            } else {
                format!("{}.{region}.amazonaws.com", ev.service)
            };
            let (v, c) = if self.r.chance(0.8) {
                ("TLSv1.3", "TLS_AES_128_GCM_SHA256")
            } else {
                ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
            };
            let _ = write!(
                out,
                r#","tlsDetails":{{"tlsVersion":"{v}","cipherSuite":"{c}","clientProvidedHostHeader":"{host}"}}"#
            );
        }
        out.push('}');
    }

    fn event(&mut self, actor: &Actor, region: &str, x: f64) -> Event {
        match actor {
            Actor::Instance(i) => {
                let inst = *i;
                if x < 0.35 {
                    self.ec2_describe(region, Some(inst))
                } else if x < 0.50 {
                    self.s3_object(region)
                } else if x < 0.68 {
                    self.kms(region)
                } else if x < 0.78 {
                    self.ssm(region)
                } else if x < 0.95 {
                    self.sts_caller()
                } else {
                    self.secret(region)
                }
            }
            Actor::Session { .. } | Actor::User { .. } => {
                if x < 0.30 {
                    self.ec2_describe(region, None)
                } else if x < 0.45 {
                    self.iam_list()
                } else if x < 0.60 {
                    self.s3_bucket(region)
                } else if x < 0.65 {
                    self.s3_object(region)
                } else if x < 0.71 {
                    self.sts_assume(None)
                } else if x < 0.85 {
                    self.sts_caller()
                } else if x < 0.93 {
                    self.kms(region)
                } else if x < 0.97 {
                    self.ec2_mutate(region)
                } else {
                    self.iam_mutate()
                }
            }
            Actor::Service(s) => {
                if x < 0.3 {
                    self.sts_assume(Some(s))
                } else {
                    self.kms(region)
                }
            }
            Actor::Root { .. } => {
                if x < 0.5 {
                    self.s3_bucket(region)
                } else {
                    self.iam_list()
                }
            }
        }
    }

    fn ec2_describe(&mut self, region: &str, own: Option<usize>) -> Event {
        let w = self.w;
        let name = *self.r.pick(&[
            "DescribeInstances",
            "DescribeInstances",
            "DescribeTags",
            "DescribeVolumes",
            "DescribeSecurityGroups",
            "DescribeInstanceStatus",
            "DescribeSnapshots",
            "DescribeImages",
            "DescribeNetworkInterfaces",
            "DescribeSubnets",
        ]);
        let inst = own.unwrap_or_else(|| w.inst_z.sample(&mut self.r));
        let iid = &w.instances[inst].id;
        if own.is_none() && name.contains("Instance") {
            *self.counts.instances.entry(inst).or_default() += 1;
        }
        let req = match name {
            "DescribeInstances" | "DescribeInstanceStatus" => {
                if self.r.chance(0.5) {
                    format!(
                        r#"{{"instancesSet":{{"items":[{{"instanceId":"{iid}"}}]}},"filterSet":{{}}}}"#
                    )
                } else {
                    r#"{"maxResults":1000,"instancesSet":{},"filterSet":{}}"#.to_string()
                }
            }
            "DescribeTags" => format!(
                r#"{{"filterSet":{{"items":[{{"name":"resource-id","valueSet":{{"items":[{{"value":"{iid}"}}]}}}}]}}}}"#
            ),
            "DescribeVolumes" => format!(
                r#"{{"volumeSet":{{"items":[{{"volumeId":"{}"}}]}},"filterSet":{{}}}}"#,
                self.r.pick(&w.volumes)
            ),
            "DescribeSecurityGroups" => format!(
                r#"{{"securityGroupSet":{{}},"securityGroupIdSet":{{"items":[{{"groupId":"{}"}}]}},"filterSet":{{}}}}"#,
                self.r.pick(&w.sgs)
            ),
            "DescribeSnapshots" => format!(
                r#"{{"snapshotSet":{{}},"ownersSet":{{"items":[{{"owner":"{}"}}]}},"sharedUsersSet":{{}},"filterSet":{{}}}}"#,
                w.accounts[0]
            ),
            "DescribeImages" => format!(
                r#"{{"executableBySet":{{}},"imagesSet":{{"items":[{{"imageId":"{}"}}]}},"ownersSet":{{}},"includeDeprecated":false,"filterSet":{{}}}}"#,
                self.r.pick(&w.amis)
            ),
            _ => r#"{"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"vpc-0a1b2c3d4e5f60718"}]}}]}}"#.to_string(),
        };
        let _ = region;
        Event::new("ec2", name, true, Some(req), None)
    }

    fn ec2_mutate(&mut self, region: &str) -> Event {
        let w = self.w;
        let inst = w.inst_z.sample(&mut self.r);
        *self.counts.instances.entry(inst).or_default() += 1;
        let iid = &w.instances[inst].id;
        match self.r.below(3) {
            0 => {
                let req = format!(
                    r#"{{"instancesSet":{{"items":[{{"imageId":"{}","minCount":1,"maxCount":1}}]}},"instanceType":"m6i.large","blockDeviceMapping":{{}},"availabilityZone":"{region}a","monitoring":{{"enabled":false}},"disableApiTermination":false,"disableApiStop":false,"clientToken":"terraform-{}","iamInstanceProfile":{{"name":"{}"}}}}"#,
                    self.r.pick(&w.amis),
                    self.r.string(HEX, 26),
                    w.roles[w.instances[inst].role].name
                );
                let resp = format!(
                    r#"{{"requestId":"{}","reservationId":"r-0{}","ownerId":"{}","groupSet":{{}},"instancesSet":{{"items":[{{"instanceId":"{iid}","imageId":"{}","currentInstanceBootMode":"legacy-bios","instanceState":{{"code":0,"name":"pending"}},"privateDnsName":"ip-10-0-{}-{}.ec2.internal","amiLaunchIndex":0,"productCodes":{{}},"instanceType":"m6i.large","launchTime":1709251200000,"placement":{{"availabilityZone":"{region}a","tenancy":"default"}},"monitoring":{{"state":"disabled"}},"subnetId":"subnet-0{}","vpcId":"vpc-0a1b2c3d4e5f60718","privateIpAddress":"10.0.{}.{}","stateReason":{{"code":"pending","message":"pending"}},"architecture":"x86_64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{{}},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{{"items":[{{"groupId":"{}","groupName":"default"}}]}}}}]}}}}"#,
                    uuid(&mut self.r),
                    self.r.string(HEX, 16),
                    w.accounts[0],
                    self.r.pick(&w.amis),
                    self.r.below(256),
                    self.r.below(256),
                    self.r.string(HEX, 16),
                    self.r.below(256),
                    self.r.below(256),
                    self.r.pick(&w.sgs)
                );
                Event::new("ec2", "RunInstances", false, Some(req), Some(resp))
            }
            1 => {
                let req = format!(
                    r#"{{"instancesSet":{{"items":[{{"instanceId":"{iid}"}}]}},"force":false}}"#
                );
                let resp = format!(
                    r#"{{"requestId":"{}","instancesSet":{{"items":[{{"instanceId":"{iid}","currentState":{{"code":64,"name":"stopping"}},"previousState":{{"code":16,"name":"running"}}}}]}}}}"#,
                    uuid(&mut self.r)
                );
                Event::new("ec2", "StopInstances", false, Some(req), Some(resp))
            }
            _ => {
                let req = format!(
                    r#"{{"resourcesSet":{{"items":[{{"resourceId":"{iid}"}}]}},"tagSet":{{"items":[{{"key":"Owner","value":"{}"}},{{"key":"CostCenter","value":"cc-{}"}}]}}}}"#,
                    self.r.pick(TEAMS),
                    self.r.below(9999)
                );
                let resp = format!(r#"{{"requestId":"{}","_return":true}}"#, uuid(&mut self.r));
                Event::new("ec2", "CreateTags", false, Some(req), Some(resp))
            }
        }
    }

    fn s3_object(&mut self, region: &str) -> Event {
        let w = self.w;
        let b = &w.buckets[w.bucket_z.sample(&mut self.r)];
        let put = self.r.chance(0.25);
        let key = format!(
            "{}/{}/part-{:05}.{}",
            self.r.pick(&["data", "logs", "exports", "tmp", "models"]),
            self.r.below(200),
            self.r.below(1000),
            self.r.pick(&["parquet", "json.gz", "csv", "tar"])
        );
        let req = format!(
            r#"{{"bucketName":"{b}","Host":"{b}.s3.{region}.amazonaws.com","key":"{key}"}}"#
        );
        let resp = put.then(|| {
            format!(
                r#"{{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:{region}:{}:key/{}"}}"#,
                w.accounts[0],
                self.r.pick(&w.kms_keys)
            )
        });
        let mut e = Event::new(
            "s3",
            if put { "PutObject" } else { "GetObject" },
            !put,
            Some(req),
            resp,
        );
        e.data = true;
        e.bucket = b.clone();
        e.additional = Some(format!(
            r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{},"AuthenticationMethod":"AuthHeader","bytesTransferredOut":{}}}"#,
            if put { self.r.below(5_000_000) } else { 0 },
            if put { 0 } else { self.r.below(5_000_000) }
        ));
        e.resources = Some(format!(
            r#"[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{b}/{key}"}},{{"accountId":"{}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{b}"}}]"#,
            w.accounts[0]
        ));
        e
    }

    fn s3_bucket(&mut self, region: &str) -> Event {
        let w = self.w;
        let b = &w.buckets[w.bucket_z.sample(&mut self.r)];
        let name = *self.r.pick(&[
            "ListBuckets",
            "ListBuckets",
            "GetBucketAcl",
            "GetBucketPolicy",
            "GetBucketLocation",
            "GetBucketVersioning",
            "ListObjects",
        ]);
        let (req, bucket) = if name == "ListBuckets" {
            (
                format!(r#"{{"Host":"s3.{region}.amazonaws.com"}}"#),
                String::new(),
            )
        } else {
            let q = name
                .strip_prefix("GetBucket")
                .map_or("list-type", |s| match s {
                    "Acl" => "acl",
                    "Policy" => "policy",
                    "Location" => "location",
                    _ => "versioning",
                });
            (
                format!(
                    r#"{{"bucketName":"{b}","Host":"{b}.s3.{region}.amazonaws.com","{q}":""}}"#
                ),
                b.clone(),
            )
        };
        let mut e = Event::new("s3", name, true, Some(req), None);
        e.bucket = bucket;
        e.additional = Some(format!(
            r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":{}}}"#,
            self.r.below(20_000)
        ));
        if !e.bucket.is_empty() {
            e.resources = Some(format!(
                r#"[{{"accountId":"{}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{b}"}}]"#,
                w.accounts[0]
            ));
        }
        e
    }

    fn iam_list(&mut self) -> Event {
        let w = self.w;
        let name = *self.r.pick(&[
            "ListUsers",
            "ListRoles",
            "ListAttachedRolePolicies",
            "ListAccessKeys",
            "GetUser",
            "ListPolicies",
            "GetAccountSummary",
            "ListMFADevices",
        ]);
        let req = match name {
            "ListAttachedRolePolicies" => {
                Some(format!(r#"{{"roleName":"{}"}}"#, self.r.pick(&w.roles).name))
            }
            "ListAccessKeys" | "GetUser" | "ListMFADevices" => {
                Some(format!(r#"{{"userName":"{}"}}"#, self.r.pick(&w.users).name))
            }
            "ListPolicies" => Some(
                r#"{"scope":"Local","onlyAttached":false,"policyUsageFilter":"PermissionPolicy","maxItems":100}"#
                    .to_string(),
            ),
            "GetAccountSummary" => None,
            _ => Some(r#"{"maxItems":1000}"#.to_string()),
        };
        Event::new("iam", name, true, req, None)
    }

    fn iam_mutate(&mut self) -> Event {
        let w = self.w;
        let u = self.r.pick(&w.users);
        let key = format!("AKIA{}", self.r.string(UPPER_DIGITS, 16));
        let resp = format!(
            r#"{{"accessKey":{{"userName":"{}","accessKeyId":"{key}","status":"Active","createDate":"Mar 1, 2024 12:00:00 AM"}}}}"#,
            u.name
        );
        Event::new(
            "iam",
            "CreateAccessKey",
            false,
            Some(format!(r#"{{"userName":"{}"}}"#, u.name)),
            Some(resp),
        )
    }

    fn sts_assume(&mut self, by_service: Option<&str>) -> Event {
        let w = self.w;
        let role = &w.roles[if by_service.is_some() {
            self.r.below(w.instance_roles)
        } else {
            w.instance_roles + w.role_z.sample(&mut self.r)
        }];
        let acct = &w.accounts[role.account];
        let session = match by_service {
            Some(_) => w.instances[self.r.below(w.instances.len())].id.clone(),
            None => format!("session-{}", self.r.below(100_000)),
        };
        let key = format!("ASIA{}", self.r.string(UPPER_DIGITS, 16));
        let token = format!(
            "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH{}",
            self.r.string(B64, 16)
        );
        let req = format!(
            r#"{{"roleArn":"arn:aws:iam::{acct}:role/{}","roleSessionName":"{session}","durationSeconds":3600}}"#,
            role.name
        );
        let resp = format!(
            r#"{{"credentials":{{"accessKeyId":"{key}","sessionToken":"{token}","expiration":"Mar 1, 2024, 1:00:00 AM"}},"assumedRoleUser":{{"assumedRoleId":"{}:{session}","arn":"arn:aws:sts::{acct}:assumed-role/{}/{session}"}}}}"#,
            role.id, role.name
        );
        let mut e = Event::new("sts", "AssumeRole", true, Some(req), Some(resp));
        e.resources = Some(format!(
            r#"[{{"accountId":"{acct}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::{acct}:role/{}"}}]"#,
            role.name
        ));
        if by_service.is_some() {
            e.event_type = "AwsServiceEvent";
        }
        e
    }

    fn sts_caller(&mut self) -> Event {
        Event::new("sts", "GetCallerIdentity", true, None, None)
    }

    fn kms(&mut self, region: &str) -> Event {
        let w = self.w;
        let key = &w.kms_keys[w.key_z.sample(&mut self.r)];
        let b = &w.buckets[w.bucket_z.sample(&mut self.r)];
        let acct = &w.accounts[0];
        let data_key = self.r.chance(0.3);
        let req = if data_key {
            format!(
                r#"{{"keyId":"arn:aws:kms:{region}:{acct}:key/{key}","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{b}"}},"keySpec":"AES_256"}}"#
            )
        } else {
            format!(
                r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{b}"}}}}"#
            )
        };
        let mut e = Event::new(
            "kms",
            if data_key {
                "GenerateDataKey"
            } else {
                "Decrypt"
            },
            true,
            Some(req),
            None,
        );
        e.resources = Some(format!(
            r#"[{{"accountId":"{acct}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:{region}:{acct}:key/{key}"}}]"#
        ));
        e
    }

    fn ssm(&mut self, _region: &str) -> Event {
        let req = format!(
            r#"{{"name":"/{}/{}/{}","withDecryption":true}}"#,
            self.r.pick(TEAMS),
            self.r.pick(&["prod", "staging", "dev"]),
            self.r
                .pick(&["db-password", "api-key", "config", "feature-flags"])
        );
        Event::new("ssm", "GetParameter", true, Some(req), None)
    }

    fn secret(&mut self, region: &str) -> Event {
        let req = format!(
            r#"{{"secretId":"arn:aws:secretsmanager:{region}:{}:secret:{}/{}-{}"}}"#,
            self.w.accounts[0],
            self.r.pick(TEAMS),
            self.r.pick(&["db", "token", "oauth"]),
            self.r.string(ALNUM, 6)
        );
        Event::new("secretsmanager", "GetSecretValue", true, Some(req), None)
    }
}

fn uuid(r: &mut Rng) -> String {
    let mut s = String::with_capacity(36);
    r.uuid(&mut s);
    s
}

struct Event {
    service: &'static str,
    name: &'static str,
    read_only: bool,
    request: Option<String>,
    response: Option<String>,
    additional: Option<String>,
    resources: Option<String>,
    event_type: &'static str,
    data: bool,
    bucket: String,
}

impl Event {
    fn new(
        service: &'static str,
        name: &'static str,
        read_only: bool,
        request: Option<String>,
        response: Option<String>,
    ) -> Event {
        Event {
            service,
            name,
            read_only,
            request,
            response,
            additional: None,
            resources: None,
            event_type: "AwsApiCall",
            data: false,
            bucket: String::new(),
        }
    }
}

// ---------------------------------------------------------------- files

struct FileOut {
    json_bytes: u64,
    gz_bytes: u64,
    counts: Counts,
}

fn write_file(
    w: &World,
    seed: u64,
    dir: &Path,
    file_no: usize,
    first: usize,
    n: usize,
) -> std::io::Result<FileOut> {
    let mut g = Gen {
        w,
        r: Rng::new(seed ^ (file_no as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f)),
        counts: Counts::default(),
        recent: Vec::new(),
        last: 0,
    };
    let region = w.regions[file_no % w.regions.len()];
    let acct = &w.accounts[0];
    let t0 = START + (first as i64 * STEP_MS) / 1000;
    let mut body = String::with_capacity(n * 1_150 + 64);
    body.push_str(r#"{"Records":["#);
    for k in 0..n {
        if k > 0 {
            body.push(',');
        }
        let secs = START + ((first + k) as i64 * STEP_MS) / 1000;
        g.record(&mut body, secs, region);
    }
    body.push_str("]}");
    // `YYYY-MM-DDTHH:MM:SSZ`, cut into the parts of the S3 key.
    let stamp = vigil::model::Ts(t0 * 1000).to_rfc3339_secs();
    let (y, mo, d, h, mi) = (
        &stamp[0..4],
        &stamp[5..7],
        &stamp[8..10],
        &stamp[11..13],
        &stamp[14..16],
    );
    let sub = dir
        .join("AWSLogs")
        .join(acct)
        .join("CloudTrail")
        .join(region)
        .join(y)
        .join(mo)
        .join(d);
    std::fs::create_dir_all(&sub)?;
    let name = format!(
        "{acct}_CloudTrail_{region}_{y}{mo}{d}T{h}{mi}Z_{}.json.gz",
        g.r.string(ALNUM, 16)
    );
    let path = sub.join(name);
    let tmp = path.with_extension("tmp");
    let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let mut gz = GzEncoder::new(file, Compression::default());
    gz.write_all(body.as_bytes())?;
    let mut file = gz.finish()?;
    file.flush()?;
    drop(file);
    std::fs::rename(&tmp, &path)?;
    let gz_bytes = std::fs::metadata(&path)?.len();
    Ok(FileOut {
        json_bytes: body.len() as u64,
        gz_bytes,
        counts: g.counts,
    })
}

fn usage() -> ! {
    eprintln!("usage: gen_trail N DIR [--seed S]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let mut seed = 1u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seed" {
            seed = it
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| usage());
        } else {
            pos.push(a.clone());
        }
    }
    let [n, dir] = pos.as_slice() else { usage() };
    let Ok(n) = n.replace('_', "").parse::<usize>() else {
        usage()
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = run(n, &dir, seed) {
        eprintln!("gen_trail: {e}");
        std::process::exit(1);
    }
}

fn run(n: usize, dir: &Path, seed: u64) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    let world = World::new(seed);
    let files = n.div_ceil(PER_FILE);
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::io::Result<Vec<(usize, FileOut)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let f = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if f >= files {
                            break;
                        }
                        let first = f * PER_FILE;
                        let count = PER_FILE.min(n - first);
                        mine.push((f, write_file(&world, seed, dir, f, first, count)?));
                    }
                    Ok(mine)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("generator thread panicked")))
            })
            .collect()
    });
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(f, _)| *f);
    let mut counts = Counts::default();
    let (mut json, mut gz) = (0u64, 0u64);
    for (_, f) in all {
        json += f.json_bytes;
        gz += f.gz_bytes;
        for (k, v) in f.counts.ips {
            *counts.ips.entry(k).or_default() += v;
        }
        for (k, v) in f.counts.instances {
            *counts.instances.entry(k).or_default() += v;
        }
        for (k, v) in f.counts.roles {
            *counts.roles.entry(k).or_default() += v;
        }
    }
    let plain_v4 = |i: &usize| !zero_padded_sometimes(*i) && matches!(world.ips[*i], Ip::V4(_));
    let best = |m: &HashMap<usize, u64>, ok: &dyn Fn(&usize) -> bool| {
        m.iter()
            .filter(|(k, _)| ok(k))
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)))
            .map(|(k, v)| (*k, *v))
    };
    let (fip, fip_n) = best(&counts.ips, &plain_v4).unwrap_or((0, 0));
    // A rare address: seen a handful of times, the lowest index for determinism.
    let (rip, rip_n) = counts
        .ips
        .iter()
        .filter(|(k, v)| plain_v4(k) && (2..=5).contains(*v))
        .min_by_key(|(k, _)| **k)
        .or_else(|| {
            counts
                .ips
                .iter()
                .filter(|(k, _)| plain_v4(k))
                .min_by_key(|(_, v)| **v)
        })
        .map_or((0, 0), |(k, v)| (*k, *v));
    let (inst, inst_n) = best(&counts.instances, &|_| true).unwrap_or((0, 0));
    let (role, role_n) = best(&counts.roles, &|_| true).unwrap_or((0, 0));
    let ro = &world.roles[role];
    let line = format!(
        "PIVOTS frequent_ip={} rare_ip={} instance={} role=arn:aws:iam::{}:role/{} frequent_ip_count={fip_n} rare_ip_count={rip_n} instance_count~{inst_n} role_count~{role_n}",
        ip_string(&world, fip),
        ip_string(&world, rip),
        world.instances[inst].id,
        world.accounts[ro.account],
        ro.name,
    );
    std::fs::write(dir.join(".pivots"), format!("{line}\n"))?;
    eprintln!(
        "gen_trail: {n} events in {files} files under {}: {:.1} MB gz, {:.1} MB JSON ({:.0} B/record, ratio {:.1}x) in {:.1}s",
        dir.display(),
        gz as f64 / 1e6,
        json as f64 / 1e6,
        json as f64 / n.max(1) as f64,
        json as f64 / gz.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    println!("{line}");
    Ok(())
}
