//! Planning collect: one SSM Run Command on the instance gathering its volatile artefacts —
//! processes with command lines and parents, network connections with their processes, who is
//! logged in and who was, shell histories, crontabs and recently changed systemd units, what is
//! in /tmp and /dev/shm, loaded kernel modules — written by SSM to the evidence store
//! (`PREFIX/CASE/collect/INSTANCE/`), never through the terminal. Memory is the team's capture
//! tool's job (a playbook setting): vigil ships none.

use super::context::{Facts, PlanContext, PlanError, instance};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;
use crate::actions::names::{STATUS_QUARANTINED, TAG_STATUS};

/// How long the command may run on the instance.
const TIMEOUT_SECONDS: i32 = 600;

/// The Linux collection: each section headed, errors kept (a missing tool is a line, not a stop).
pub const LINUX: &[&str] = &[
    "set +e",
    "echo '== vigil collect: '$(hostname)' '$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "echo '== processes (pid ppid user start command line)'; ps -eo pid,ppid,user,lstart,args --forest",
    "echo '== network connections with processes'; (ss -tunapE 2>/dev/null || ss -tunap || netstat -tunap)",
    "echo '== logged in'; who -a; echo '== recent logins'; last -F -n 50 2>/dev/null; lastlog 2>/dev/null | grep -v 'Never logged in'",
    "echo '== shell histories'; for h in /root/.*history /home/*/.*history; do [ -f \"$h\" ] && { echo \"-- $h\"; tail -n 500 \"$h\"; }; done",
    "echo '== crontabs'; ls -la /etc/cron* /var/spool/cron 2>/dev/null; for f in /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* /var/spool/cron/*; do [ -f \"$f\" ] && { echo \"-- $f\"; cat \"$f\"; }; done",
    "echo '== systemd units changed in 14 days'; find /etc/systemd /lib/systemd/system /usr/lib/systemd/system -newermt '-14 days' -type f -ls 2>/dev/null",
    "echo '== /tmp and /dev/shm'; ls -laR --time-style=full-iso /tmp /dev/shm 2>/dev/null | head -n 2000",
    "echo '== kernel modules'; lsmod",
];

/// The Windows collection (AWS-RunPowerShellScript).
pub const WINDOWS: &[&str] = &[
    "$ErrorActionPreference = 'Continue'",
    "'== vigil collect: ' + $env:COMPUTERNAME + ' ' + (Get-Date).ToUniversalTime().ToString('o')",
    "'== processes'; Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId,CreationDate,CommandLine | Format-Table -AutoSize -Wrap | Out-String -Width 4096",
    "'== network connections with processes'; Get-NetTCPConnection | Select-Object LocalAddress,LocalPort,RemoteAddress,RemotePort,State,OwningProcess | Format-Table -AutoSize | Out-String -Width 4096",
    "'== logged in'; query user 2>&1",
    "'== recent logons'; Get-WinEvent -FilterHashtable @{LogName='Security';Id=4624} -MaxEvents 50 -ErrorAction SilentlyContinue | Format-List TimeCreated,Message | Out-String -Width 4096",
    "'== PowerShell histories'; Get-ChildItem C:\\Users\\*\\AppData\\Roaming\\Microsoft\\Windows\\PowerShell\\PSReadLine\\ConsoleHost_history.txt -ErrorAction SilentlyContinue | ForEach-Object { '-- ' + $_.FullName; Get-Content $_ -Tail 500 }",
    "'== scheduled tasks'; Get-ScheduledTask | Select-Object TaskPath,TaskName,State | Format-Table -AutoSize | Out-String -Width 4096",
    "'== services changed'; Get-CimInstance Win32_Service | Select-Object Name,State,StartMode,PathName | Format-Table -AutoSize | Out-String -Width 4096",
    "'== temp'; Get-ChildItem $env:TEMP,C:\\Windows\\Temp -Recurse -ErrorAction SilentlyContinue | Select-Object FullName,Length,LastWriteTime | Format-Table -AutoSize | Out-String -Width 4096",
    "'== drivers'; Get-CimInstance Win32_SystemDriver | Select-Object Name,State,PathName | Format-Table -AutoSize | Out-String -Width 4096",
];

/// `s3://BUCKET/PREFIX` as (bucket, prefix), or why it is not one.
pub(super) fn store_of(uri: &str) -> Result<(String, String), PlanError> {
    crate::actions::evidence::store_of(uri)
        .ok_or_else(|| PlanError::BadEvidenceStore(uri.to_string()))
}

pub(super) fn plan(
    action: &Action,
    id: &str,
    evidence: &Option<String>,
    memory: Option<&str>,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let st = instance(facts, id)?;
    let (bucket, prefix) = store_of(evidence.as_deref().ok_or(PlanError::NoEvidenceStore)?)?;
    let agent = facts.ssm.get(id).cloned().flatten();
    let Some(agent) = agent else {
        return Err(PlanError::NotManaged(id.to_string(), String::new()));
    };
    if agent.ping_status != "Online" {
        return Err(PlanError::NotManaged(
            id.to_string(),
            format!("; its agent is {}", agent.ping_status),
        ));
    }
    if st.tags.get(TAG_STATUS).map(String::as_str) == Some(STATUS_QUARANTINED) {
        p.notes.push(format!(
            "{id} is quarantined: its agent reaches SSM only if the VPC has SSM endpoints (ssm, ssmmessages, ec2messages); collect before quarantine (the default playbook's order)"
        ));
    }
    let windows = agent.platform_type.eq_ignore_ascii_case("Windows");
    let (document, lines) = if windows {
        ("AWS-RunPowerShellScript", WINDOWS)
    } else {
        ("AWS-RunShellScript", LINUX)
    };
    let key_prefix = [prefix.as_str(), &ctx.case, "collect", id]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("/");
    let mut commands: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    // The team's memory capture, last: the volatile state is read before the capture tool
    // itself changes it. It gets the output folder, to upload its image beside the rest.
    if let Some(m) = memory {
        let to = format!("s3://{bucket}/{key_prefix}/");
        commands.extend(if windows {
            [
                format!("$env:VIGIL_S3 = '{to}'"),
                "'== memory (the team capture tool)'".to_string(),
                m.to_string(),
            ]
        } else {
            [
                format!("export VIGIL_S3='{to}'"),
                "echo '== memory (the team capture tool)'".to_string(),
                m.to_string(),
            ]
        });
        p.blast_radius.push(format!(
            "{id} also runs the playbook's memory capture: `{m}` (the image is as large as the instance's memory; the tool must be installed there)"
        ));
    }
    p.steps.push(step(
        action,
        ApiCall::SendCommand {
            instance_id: id.to_string(),
            document: document.to_string(),
            commands,
            output_s3_bucket: bucket.clone(),
            output_s3_key_prefix: key_prefix.clone(),
            comment: format!("vigil collect {} {id}", ctx.case),
            timeout_seconds: TIMEOUT_SECONDS,
        },
        format!(
            "processes, connections, logins, shell histories, crontabs, systemd units, /tmp and /dev/shm, kernel modules → s3://{bucket}/{key_prefix}/"
        ),
    ));
    p.blast_radius.push(format!(
        "{id} runs a read-only script as root for up to {TIMEOUT_SECONDS} s (an attacker watching process lists sees it)"
    ));
    p.notes.push(format!(
        "the instance's own role writes the output: it needs s3:PutObject on s3://{bucket}/{key_prefix}/ (without it the command still runs and SSM keeps only the first 24,000 characters)"
    ));
    if memory.is_none() {
        p.notes.push(
            "memory is not collected: vigil ships no capture tool (give the team's with --memory-command, or memory_command in the playbook)".to_string(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::store_of;

    #[test]
    fn evidence_store_locations() {
        assert_eq!(
            store_of("s3://evidence/ir/").unwrap(),
            ("evidence".into(), "ir".into())
        );
        assert_eq!(
            store_of("s3://evidence").unwrap(),
            ("evidence".into(), String::new())
        );
        assert!(store_of("https://evidence").is_err());
        assert!(store_of("s3:///x").is_err());
    }
}
