#![allow(dead_code)] // each test crate uses a different part of this harness
//! moto's server on 127.0.0.1 for the tests of AWS behaviour: one server per test binary, started
//! by tests/moto/launch.py (which corrects moto's known gaps and can inject faults), tests
//! serialised by a lock, state reset (`POST /moto-api/reset`) before each; SIGTERM, a moment,
//! then SIGKILL on the way out. FAILS when moto cannot start: scripts/test.sh installs it.
//! Also: SDK clients pointed at the server, and a two-ENI instance fixture.

use aws_sdk_ec2::types as ec2t;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub struct Moto {
    pub child: Child,
    pub port: u16,
    /// The launcher's fault file (see tests/moto/launch.py, VIGIL_MOTO_FAULTS).
    pub faults: PathBuf,
    /// The GuardDuty findings the launcher serves, per region (VIGIL_MOTO_FINDINGS), and beside
    /// it `<file>.calls`, the calls counted.
    pub findings: PathBuf,
    /// The CloudTrail records LookupEvents serves, per region (VIGIL_MOTO_TRAIL), and beside it
    /// `<file>.calls`, the calls counted with their times.
    pub trail: PathBuf,
    /// What Detective's investigations find, per entity ARN (VIGIL_MOTO_DETECTIVE), and beside it
    /// `<file>.calls`.
    pub detective: PathBuf,
    /// CloudTrail Lake's event data stores (VIGIL_MOTO_LAKE), and beside it `<file>.calls` with
    /// the statements sent.
    pub lake: PathBuf,
    /// The instances whose SSM agent is registered, per region (VIGIL_MOTO_SSM), as
    /// DescribeInstanceInformation lists them.
    pub ssm: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // SIGTERM, a moment, then SIGKILL: moto sometimes ignores the first SIGTERM.
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(2) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.faults);
    }
}

pub fn python() -> PathBuf {
    std::env::var_os("VIGIL_MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/vigil-moto-venv/bin/python")
        })
}

#[allow(unsafe_code)] // set_var: the SDK under test reads its static test credentials from the environment
pub fn start_moto() -> Moto {
    let py = python();
    assert!(
        py.exists(),
        "moto is not installed at {} (run scripts/test.sh, which installs moto[server] into a venv)",
        py.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let launcher = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/moto/launch.py");
    let faults = std::env::temp_dir().join(format!(
        "vigil-moto-faults-{}-{port}.json",
        std::process::id()
    ));
    std::fs::write(&faults, "{}").unwrap();
    let findings = faults.with_extension("findings.json");
    std::fs::write(&findings, "{}").unwrap();
    let trail = faults.with_extension("trail.json");
    std::fs::write(&trail, "{}").unwrap();
    let detective = faults.with_extension("detective.json");
    std::fs::write(&detective, "{}").unwrap();
    let lake = faults.with_extension("lake.json");
    std::fs::write(&lake, "{}").unwrap();
    let ssm = faults.with_extension("ssm.json");
    std::fs::write(&ssm, "{}").unwrap();
    let child = std::process::Command::new(&py)
        .arg(&launcher)
        .arg(port.to_string())
        .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        .env("VIGIL_MOTO_FAULTS", &faults)
        .env("VIGIL_MOTO_FINDINGS", &findings)
        .env("VIGIL_MOTO_TRAIL", &trail)
        .env("VIGIL_MOTO_DETECTIVE", &detective)
        .env("VIGIL_MOTO_LAKE", &lake)
        .env("VIGIL_MOTO_SSM", &ssm)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", py.display()));
    let mut moto = Moto {
        child,
        port,
        faults,
        findings,
        trail,
        detective,
        lake,
        ssm,
    };
    let t = Instant::now();
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && http_post(port, "/moto-api/reset") {
            break;
        }
        if let Ok(Some(st)) = moto.child.try_wait() {
            panic!("moto exited during start-up: {st}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "moto did not start on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Static test credentials for the code under test (vigil's library and binary).
    // SAFETY: set once, under the lock, before any SDK client in this process reads them.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let _ = &mut moto;
    moto
}

pub fn http_post(port: u16, path: &str) -> bool {
    http_post_body(port, path, "")
}

pub fn http_post_body(port: u16, path: &str, body: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    // Any 2xx: moto answers some of its own API with 201.
    resp.starts_with("HTTP/1.1 2") || resp.starts_with("HTTP/1.0 2")
}

pub static MOTO: OnceLock<Mutex<Moto>> = OnceLock::new();

/// The server, locked for this test and reset.
pub fn moto() -> (MutexGuard<'static, Moto>, String) {
    let m = MOTO.get_or_init(|| Mutex::new(start_moto()));
    let g = m.lock().unwrap_or_else(|p| p.into_inner());
    // A test that turned IAM enforcement on and failed before turning it off must not leak it.
    assert!(
        http_post_body(g.port, "/moto-api/reset-auth", "inf"),
        "moto reset-auth failed"
    );
    assert!(http_post(g.port, "/moto-api/reset"), "moto reset failed");
    std::fs::write(&g.faults, "{}").unwrap();
    std::fs::write(&g.findings, "{}").unwrap();
    let _ = std::fs::remove_file(g.findings.with_extension("json.calls"));
    std::fs::write(&g.trail, "{}").unwrap();
    let _ = std::fs::remove_file(g.trail.with_extension("json.calls"));
    std::fs::write(&g.detective, "{}").unwrap();
    let _ = std::fs::remove_file(g.detective.with_extension("json.calls"));
    std::fs::write(&g.lake, "{}").unwrap();
    let _ = std::fs::remove_file(g.lake.with_extension("json.calls"));
    let url = format!("http://127.0.0.1:{}", g.port);
    (g, url)
}

pub struct Sdk {
    pub rt: tokio::runtime::Runtime,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub r53r: aws_sdk_route53resolver::Client,
}

/// The SDK's configuration for moto's server in `region`: static test credentials, one attempt.
pub fn sdk_config(rt: &tokio::runtime::Runtime, url: &str, region: &str) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(url)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .load(),
    )
}

pub fn sdk(url: &str) -> Sdk {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = sdk_config(&rt, url, "us-east-1");
    Sdk {
        ec2: aws_sdk_ec2::Client::new(&conf),
        iam: aws_sdk_iam::Client::new(&conf),
        sns: aws_sdk_sns::Client::new(&conf),
        asg: aws_sdk_autoscaling::Client::new(&conf),
        r53r: aws_sdk_route53resolver::Client::new(&conf),
        rt,
    }
}

pub struct Fixture {
    pub vpc: String,
    pub instance: String,
    pub enis: Vec<String>,
    /// Each ENI's groups before any action, in ENI order.
    pub groups: Vec<Vec<String>>,
}

/// A VPC, two groups, an instance with a role, two ENIs (one group each) and two volumes.
pub fn fixture(s: &Sdk) -> Fixture {
    s.rt.block_on(async {
        let vpc = s.ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        let sub = s
            .ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.0.1.0/24")
            .availability_zone("us-east-1a")
            .send()
            .await
            .unwrap();
        let subnet = sub.subnet().unwrap().subnet_id().unwrap().to_string();
        let mut sgs = Vec::new();
        for name in ["web", "admin"] {
            let g = s
                .ec2
                .create_security_group()
                .vpc_id(&vpc)
                .group_name(name)
                .description(name)
                .send()
                .await
                .unwrap();
            sgs.push(g.group_id().unwrap().to_string());
        }
        s.iam
            .create_role()
            .role_name("web-role")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send()
            .await
            .unwrap();
        s.iam
            .create_instance_profile()
            .instance_profile_name("web-profile")
            .send()
            .await
            .unwrap();
        s.iam
            .add_role_to_instance_profile()
            .instance_profile_name("web-profile")
            .role_name("web-role")
            .send()
            .await
            .unwrap();
        let run = s
            .ec2
            .run_instances()
            .image_id("ami-12345678")
            .instance_type(ec2t::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet)
            .security_group_ids(&sgs[0])
            .iam_instance_profile(
                ec2t::IamInstanceProfileSpecification::builder()
                    .name("web-profile")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let inst = run.instances()[0].instance_id().unwrap().to_string();
        let eni0 = run.instances()[0].network_interfaces()[0]
            .network_interface_id()
            .unwrap()
            .to_string();
        let eni1 = s
            .ec2
            .create_network_interface()
            .subnet_id(&subnet)
            .groups(&sgs[1])
            .send()
            .await
            .unwrap();
        let eni1 = eni1
            .network_interface()
            .unwrap()
            .network_interface_id()
            .unwrap()
            .to_string();
        s.ec2
            .attach_network_interface()
            .network_interface_id(&eni1)
            .instance_id(&inst)
            .device_index(1)
            .send()
            .await
            .unwrap();
        let vol = s
            .ec2
            .create_volume()
            .availability_zone("us-east-1a")
            .size(8)
            .tag_specifications(
                ec2t::TagSpecification::builder()
                    .resource_type(ec2t::ResourceType::Volume)
                    .tags(ec2t::Tag::builder().key("app").value("shop").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        s.ec2
            .attach_volume()
            .volume_id(vol.volume_id().unwrap())
            .instance_id(&inst)
            .device("/dev/sdf")
            .send()
            .await
            .unwrap();
        Fixture {
            vpc,
            instance: inst,
            enis: vec![eni0, eni1],
            groups: vec![vec![sgs[0].clone()], vec![sgs[1].clone()]],
        }
    })
}

pub fn eni_groups(s: &Sdk, eni: &str) -> Vec<String> {
    let out =
        s.rt.block_on(
            s.ec2
                .describe_network_interfaces()
                .network_interface_ids(eni)
                .send(),
        )
        .unwrap();
    let mut g: Vec<String> = out.network_interfaces()[0]
        .groups()
        .iter()
        .map(|g| g.group_id().unwrap().to_string())
        .collect();
    g.sort();
    g
}

pub fn group_named(s: &Sdk, vpc: &str, name: &str) -> Option<ec2t::SecurityGroup> {
    let out =
        s.rt.block_on(
            s.ec2
                .describe_security_groups()
                .filters(ec2t::Filter::builder().name("vpc-id").values(vpc).build())
                .filters(
                    ec2t::Filter::builder()
                        .name("group-name")
                        .values(name)
                        .build(),
                )
                .send(),
        )
        .unwrap();
    out.security_groups().first().cloned()
}

pub fn instance_tags(s: &Sdk, id: &str) -> std::collections::BTreeMap<String, String> {
    let out =
        s.rt.block_on(s.ec2.describe_instances().instance_ids(id).send())
            .unwrap();
    out.reservations()[0].instances()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

pub fn termination_protected(s: &Sdk, id: &str) -> bool {
    s.rt.block_on(
        s.ec2
            .describe_instance_attribute()
            .instance_id(id)
            .attribute(ec2t::InstanceAttributeName::DisableApiTermination)
            .send(),
    )
    .unwrap()
    .disable_api_termination()
    .and_then(|v| v.value())
    .unwrap_or(false)
}

/// IAM enforcement on in moto (`/moto-api/reset-auth`: requests are checked against the caller's
/// IAM policies, as AWS does) for as long as this lives.
pub struct Enforced(u16);

impl Enforced {
    pub fn on(port: u16) -> Enforced {
        assert!(http_post_body(port, "/moto-api/reset-auth", "0"));
        Enforced(port)
    }
}

impl Drop for Enforced {
    fn drop(&mut self) {
        http_post_body(self.0, "/moto-api/reset-auth", "inf");
    }
}

/// A user with the inline policy `doc`, and its access key (id, secret).
pub fn user_with_policy(s: &Sdk, name: &str, doc: &str) -> (String, String) {
    s.rt.block_on(async {
        s.iam.create_user().user_name(name).send().await.unwrap();
        s.iam
            .put_user_policy()
            .user_name(name)
            .policy_name("vigil")
            .policy_document(doc)
            .send()
            .await
            .unwrap();
        let k = s
            .iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .unwrap();
        let k = k.access_key().unwrap();
        (
            k.access_key_id().to_string(),
            k.secret_access_key().to_string(),
        )
    })
}

/// A GuardDuty detector in `region` that administers one member account (111122223333), as a
/// delegated administrator's does; its id.
pub fn detector_with_member(url: &str, region: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = sdk_config(&rt, url, region);
    let gd = aws_sdk_guardduty::Client::new(&conf);
    let d = rt
        .block_on(gd.create_detector().enable(true).send())
        .unwrap()
        .detector_id
        .unwrap();
    rt.block_on(
        gd.create_members()
            .detector_id(&d)
            .account_details(
                aws_sdk_guardduty::types::AccountDetail::builder()
                    .account_id("111122223333")
                    .email("member@example.com")
                    .build(),
            )
            .send(),
    )
    .unwrap();
    d
}

/// `vigil ARGS --endpoint-url URL --region us-east-1` as a user would run it against moto:
/// moto's credentials, one attempt, nothing of the machine's AWS configuration, none of vigil's
/// own environment defaults (topic, evidence store). More arguments and variables may follow.
pub fn vigil_at(url: &str, args: &[&str]) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("vigil").unwrap();
    c.args(args)
        .args(["--endpoint-url", url, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("VIGIL_TOPIC_ARN")
        .env_remove("VIGIL_EVIDENCE");
    c
}

/// The SDK's configuration for moto acting as `role_arn`, assumed with `conf`'s credentials: how
/// a test reaches another account, whose resources moto keeps apart by the credentials' account.
pub fn assumed_config(
    rt: &tokio::runtime::Runtime,
    conf: &aws_config::SdkConfig,
    role_arn: &str,
) -> aws_config::SdkConfig {
    let out = rt
        .block_on(
            aws_sdk_sts::Client::new(conf)
                .assume_role()
                .role_arn(role_arn)
                .role_session_name("setup")
                .send(),
        )
        .unwrap();
    let c = out.credentials().unwrap();
    conf.to_builder()
        .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
            aws_sdk_ec2::config::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "assumed",
            ),
        ))
        .build()
}

/// One instance alone in a new VPC (`NET.0.0/16`) and subnet (`NET.1.0/24` in `az`): its id and
/// its network interface.
pub fn lone_instance(
    rt: &tokio::runtime::Runtime,
    ec2: &aws_sdk_ec2::Client,
    net: &str,
    az: &str,
) -> (String, String) {
    rt.block_on(async {
        let vpc = ec2
            .create_vpc()
            .cidr_block(format!("{net}.0.0/16"))
            .send()
            .await
            .unwrap();
        let sub = ec2
            .create_subnet()
            .vpc_id(vpc.vpc().unwrap().vpc_id().unwrap())
            .cidr_block(format!("{net}.1.0/24"))
            .availability_zone(az)
            .send()
            .await
            .unwrap();
        let run = ec2
            .run_instances()
            .image_id("ami-12345678")
            .instance_type(ec2t::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(sub.subnet().unwrap().subnet_id().unwrap())
            .send()
            .await
            .unwrap();
        let i = &run.instances()[0];
        (
            i.instance_id().unwrap().to_string(),
            i.network_interfaces()[0]
                .network_interface_id()
                .unwrap()
                .to_string(),
        )
    })
}

/// The names of a network interface's security groups, read with `ec2`.
pub fn eni_group_names(
    rt: &tokio::runtime::Runtime,
    ec2: &aws_sdk_ec2::Client,
    eni: &str,
) -> Vec<String> {
    rt.block_on(
        ec2.describe_network_interfaces()
            .network_interface_ids(eni)
            .send(),
    )
    .unwrap()
    .network_interfaces()[0]
        .groups()
        .iter()
        .filter_map(|g| g.group_name().map(str::to_string))
        .collect()
}
