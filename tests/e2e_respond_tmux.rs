//! End to end against AWS as a responder would run it: `vigil open --respond` in tmux, pointed at
//! moto's server (the real SDK over HTTP), a GuardDuty finding about a two-ENI instance, `X`, the
//! plan, the last four characters of the id, and the account read back through the API: both ENIs
//! hold only the contain group. Fails (does not skip) without tmux or moto: scripts/test.sh
//! installs both.

use crate::moto_support;
use crate::tmux;

use moto_support::*;
use tmux::Tmux;

#[test]
fn open_respond_quarantines_from_the_keyboard() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    // The console's C&C finding, about the instance moto just launched.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tui/findings.json"
    ))
    .unwrap();
    let all: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let finding = all[0]
        .to_string()
        .replace("i-0a1b2c3d4e5f60718", &f.instance);
    assert!(finding.contains(&f.instance));
    let findings = dir.path().join("findings.json");
    std::fs::write(&findings, format!("[{finding}]")).unwrap();
    let audit = dir.path().join("audit.jsonl");

    let bin = env!("CARGO_BIN_EXE_vigil");
    let env = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_MAX_ATTEMPTS=1 \
               AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
               AWS_EC2_METADATA_DISABLED=true";
    let t = Tmux::start(
        "respond",
        (100, 30),
        &format!(
            "{env} {bin} open --findings {} --respond --endpoint-url {url} --region us-east-1 \
             --case IR-50 --audit-log {}; echo VIGIL-EXIT=$?; sleep 30",
            findings.display(),
            audit.display()
        ),
    );
    t.wait_for("ARMED");
    t.wait_for("C&CActivity");
    t.keys(&["X"]);
    // The plan's calls, not its title, which is drawn before them.
    let screen = t.wait_for("ec2:ModifyInstanceAttribute");
    assert!(screen.contains("› confirm quarantine"), "{screen}");
    assert!(screen.contains(&f.instance), "{screen}");
    let last4 = &f.instance[f.instance.len() - 4..];
    for c in last4.chars() {
        t.keys(&[&c.to_string()]);
    }
    t.keys(&["Enter"]);
    let screen = t.wait_for(&format!("done: quarantine {}", f.instance));
    assert!(screen.contains("› actions"), "{screen}");
    assert!(
        screen.contains("arn:aws:sts::123456789012:user/moto"),
        "{screen}"
    );

    // Read back through the API.
    let contain = group_named(&s, &f.vpc, &format!("vigil-contain-{}", f.vpc))
        .expect("the contain group exists");
    let contain = contain.group_id().unwrap().to_string();
    for eni in &f.enis {
        assert_eq!(eni_groups(&s, eni), vec![contain.clone()], "{eni}");
    }
    assert!(termination_protected(&s, &f.instance));
    assert_eq!(instance_tags(&s, &f.instance)["vigil:case"], "IR-50");
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.lines().all(|l| l.contains("\"case\":\"IR-50\"")),
        "{log}"
    );
    assert!(!log.contains("\"demo\":true"), "{log}");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}
