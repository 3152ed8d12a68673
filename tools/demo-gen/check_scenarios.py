#!/usr/bin/env python3
"""Independent consistency check of vigil's bundled demo scenarios (demo/<name>/).

Re-reads the committed files (it shares no code with gen_scenarios.py) and verifies:
  * every file parses in the real AWS format it claims (GuardDuty envelopes incl. PascalCase, CloudTrail S3
    files, VPC flow logs v2/v5, Route 53 Resolver query logs) and sits where AWS would put it;
  * every instance, ENI, IP, role, user, access key, session and bucket named in a finding or a CloudTrail
    event exists in world.json, with matching attributes;
  * times line up: findings are created after the evidence they describe, everything is inside the scenario
    range, the timeline offsets match createdAt, the log slices match their records;
  * each finding's evidence is really in the logs (API calls, flows, DNS queries);
  * the [[groups]] are exactly what the grouping rule of issue 2 section 3 yields;
  * the answer key's entities exist and are reachable in the entity graph from the highest-severity findings;
  * the demo folder stays under 3 MB.

    python3 tools/demo-gen/check_scenarios.py [DEMO_DIR]      # exit status 1 on any failure
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import math
import re
import sys
import tomllib
from collections import defaultdict, deque
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demo"
MAX_BYTES = 3 * 1024 * 1024

REQUIRED_TYPES = {
    "log4shell-c2": ["Backdoor:EC2/C&CActivity.B", "Execution:Runtime/ReverseShell",
                     "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"],
    "dns-c2-exfil": ["Backdoor:EC2/C&CActivity.B!DNS", "Trojan:EC2/DNSDataExfiltration",
                     "Trojan:EC2/DGADomainRequest.B"],
    "iam-credential-chain": ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
                             "Discovery:IAMUser/AnomalousBehavior", "Persistence:IAMUser/AnomalousBehavior",
                             "Stealth:IAMUser/CloudTrailLoggingDisabled", "CryptoCurrency:EC2/BitcoinTool.B!DNS"],
}

# GuardDuty's default severities for the types used here (High 8, Medium 5, Low 2).
SEVERITY = {
    "Backdoor:EC2/C&CActivity.B": 8, "Backdoor:EC2/C&CActivity.B!DNS": 8, "Backdoor:EC2/Spambot": 5,
    "Execution:Runtime/ReverseShell": 8, "Execution:Runtime/NewBinaryExecuted": 5,
    "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom": 5, "UnauthorizedAccess:EC2/SSHBruteForce": 2,
    "Recon:EC2/PortProbeUnprotectedPort": 2, "Recon:EC2/Portscan": 5, "Recon:IAMUser/MaliciousIPCaller.Custom": 5,
    "Discovery:IAMUser/AnomalousBehavior": 2, "Trojan:EC2/DNSDataExfiltration": 8,
    "Trojan:EC2/DGADomainRequest.B": 8, "Policy:IAMUser/RootCredentialUsage": 2,
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": 8,
    "PrivilegeEscalation:IAMUser/AnomalousBehavior": 5, "Persistence:IAMUser/AnomalousBehavior": 5,
    "Stealth:IAMUser/CloudTrailLoggingDisabled": 2, "Exfiltration:IAMUser/AnomalousBehavior": 8,
    "Exfiltration:S3/AnomalousBehavior": 8, "Impact:IAMUser/AnomalousBehavior": 8,
    "CryptoCurrency:EC2/BitcoinTool.B!DNS": 8,
}

V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
ACTIONS = {"notify", "snapshot", "quarantine", "disable-key", "revoke-sessions", "block-domain"}
ACTION_TARGET = {"notify": "finding", "snapshot": "instance", "quarantine": "instance", "disable-key": "key",
                 "revoke-sessions": "role", "block-domain": "domain"}

RE_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RE_ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RE_HEX32 = re.compile(r"^[0-9a-f]{32}$")
RE_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RE_INSTANCE = re.compile(r"^i-[0-9a-f]{8,17}$")
RE_KEY = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")
RE_ID17 = {p: re.compile(rf"^{p}-0[0-9a-f]{{16}}$") for p in ("i", "eni", "vol", "sg", "subnet", "vpc", "snap", "ami")}


class Checker:
    def __init__(self):
        self.errors: list[str] = []
        self.scope = ""

    def fail(self, msg):
        self.errors.append(f"{self.scope}: {msg}")

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return cond


C = Checker()


def t_of(s: str) -> float:
    """RFC3339 with Z, with or without millis, to epoch seconds (float)."""
    s = s.replace("Z", "+00:00")
    return dt.datetime.fromisoformat(s).timestamp()


def ip_canon(s):
    if not isinstance(s, str):
        return None
    try:
        return str(ipaddress.ip_address(s.strip()))
    except ValueError:
        return None


def routable(ip: str) -> bool:
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        nets = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/32")
    else:
        if a.ipv4_mapped:
            return routable(str(a.ipv4_mapped))
        nets = ("::1/128", "::/128", "fe80::/10", "fc00::/7")
    return not any(a in ipaddress.ip_network(n) for n in nets)


def is_placeholder(v) -> bool:
    return not isinstance(v, str) or not v.strip() or v.startswith("GeneratedFinding") or v == "i-99999999"


def read_text(p: Path) -> str:
    raw = p.read_bytes()
    if p.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


# --------------------------------------------------------------------------------------------------
# GuardDuty


def camel(o, key=None):
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            nk = k[0].lower() + k[1:] if len(k) > 1 and k[0].isupper() and not k[1].isupper() else k
            if nk == "additionalInfo" and isinstance(v, dict) and set(v) == {"Value", "Type"}:
                out[nk] = json.loads(v["Value"])
            else:
                out[nk] = camel(v)
        return out
    if isinstance(o, list):
        return [camel(x) for x in o]
    return o


def unwrap(obj, envelopes: list):
    if isinstance(obj, list):
        envelopes.append("array")
        return obj
    if "Findings" in obj:
        envelopes.append("cli-pascal")
        return [camel(f) for f in obj["Findings"]]
    if "findings" in obj:
        envelopes.append("rest")
        return obj["findings"]
    if obj.get("detail-type") == "GuardDuty Finding":
        envelopes.append("eventbridge")
        C.check(obj.get("source") == "aws.guardduty", "EventBridge source")
        C.check(RE_UUID4.match(obj.get("id", "")), "EventBridge id")
        return [obj["detail"]]
    envelopes.append("bare")
    return [obj]


def load_findings(d: Path):
    out, envelopes = [], []
    for p in sorted((d / "findings").rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(d).as_posix()
        text = read_text(p)
        if ".jsonl" in p.name:
            C.check(re.search(r"AWSLogs/\d{12}/GuardDuty/[a-z0-9-]+/\d{4}/\d\d/\d\d/[0-9a-f-]{36}\.jsonl\.gz$", rel),
                    f"S3 export path {rel}")
            for n, line in enumerate(text.splitlines(), 1):
                for f in unwrap(json.loads(line), envelopes):
                    out.append((f, rel))
        else:
            for f in unwrap(json.loads(text), envelopes):
                out.append((f, rel))
    return out, envelopes


def finding_entities(f):
    ents = set()
    acct = f.get("accountId")
    if acct:
        ents.add(("account", acct))
    res = f.get("resource") or {}
    inst = res.get("instanceDetails") or {}
    if not is_placeholder(inst.get("instanceId")):
        ents.add(("instance", inst["instanceId"]))

    def add_ip(v):
        if not is_placeholder(v):
            c = ip_canon(v)
            if c:
                ents.add(("ip", c))

    for nic in inst.get("networkInterfaces") or []:
        add_ip(nic.get("privateIpAddress"))
        add_ip(nic.get("publicIp"))
        for pip in nic.get("privateIpAddresses") or []:
            add_ip(pip.get("privateIpAddress"))
    akd = res.get("accessKeyDetails") or {}
    if not is_placeholder(akd.get("accessKeyId")):
        ents.add(("key", akd["accessKeyId"]))
    un, ut = akd.get("userName"), akd.get("userType")
    if not is_placeholder(un):
        if ut == "IAMUser":
            ents.add(("user", f"arn:aws:iam::{acct}:user/{un}"))
        elif ut == "Root":
            ents.add(("user", f"arn:aws:iam::{acct}:root"))
        elif ut in ("AssumedRole", "Role"):
            ents.add(("role", f"arn:aws:iam::{acct}:role/{un}"))
    for b in res.get("s3BucketDetails") or []:
        if not is_placeholder(b.get("name")):
            ents.add(("bucket", b["name"]))
    act = (f.get("service") or {}).get("action") or {}
    for k in ("networkConnectionAction", "awsApiCallAction", "kubernetesApiCallAction", "rdsLoginAttemptAction"):
        r = (act.get(k) or {}).get("remoteIpDetails") or {}
        add_ip(r.get("ipAddressV4"))
        add_ip(r.get("ipAddressV6"))
    for pd in (act.get("portProbeAction") or {}).get("portProbeDetails") or []:
        r = pd.get("remoteIpDetails") or {}
        add_ip(r.get("ipAddressV4"))
        add_ip(r.get("ipAddressV6"))
    dom = (act.get("dnsRequestAction") or {}).get("domain")
    if not is_placeholder(dom):
        ents.add(("domain", dom.strip().rstrip(".").lower()))
    return ents


def groups_of(findings):
    linking = {"ip", "domain", "instance", "role", "session", "user", "key", "bucket"}
    by_entity = defaultdict(set)
    for f in findings:
        for k, v in finding_entities(f):
            if k in linking and not (k == "ip" and not routable(v)):
                by_entity[(k, v)].add(f["id"])
    adj = defaultdict(set)
    for ids in by_entity.values():
        ids = sorted(ids)
        for a in ids[1:]:
            adj[ids[0]].add(a)
            adj[a].add(ids[0])
    seen, groups = set(), []
    sev = {f["id"]: float(f["severity"]) for f in findings}
    for f in findings:
        if f["id"] in seen:
            continue
        comp, q = set(), deque([f["id"]])
        while q:
            x = q.popleft()
            if x in comp:
                continue
            comp.add(x)
            q.extend(adj[x] - comp)
        seen |= comp
        groups.append((frozenset(comp), max(sev[i] for i in comp)))
    return groups


# --------------------------------------------------------------------------------------------------
# CloudTrail


def walk_strings(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from walk_strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk_strings(v)


def classify(s):
    if RE_INSTANCE.match(s):
        return ("instance", s)
    if RE_KEY.match(s):
        return ("key", s)
    m = re.match(r"^arn:aws[a-z-]*:(iam|sts|s3):[^:]*:(\d*):(.+)$", s)
    if not m:
        return None
    svc, acct, res = m.groups()
    if svc == "iam" and acct:
        if res == "root" or res.startswith("user/"):
            return ("user", s)
        if res.startswith("role/"):
            return ("role", s)
    if svc == "sts" and acct and re.match(r"^assumed-role/[^/]+/[^/]+$", res):
        return ("session", s)
    if svc == "s3" and not acct and "/" not in res:
        return ("bucket", res)
    return None


def principal_of(ev):
    ui = ev.get("userIdentity") or {}
    t = ui.get("type")
    if t in ("IAMUser", "Root"):
        return ("user", ui["arn"])
    if t == "AssumedRole":
        return ("session", ui["arn"])
    return None


def event_entities(ev):
    """(principal, {entities}) as issue 2 section 3 defines them."""
    ents = set()
    ui = ev.get("userIdentity") or {}
    ip = ip_canon(ev.get("sourceIPAddress"))
    if ip:
        ents.add(("ip", ip))
    p = principal_of(ev)
    if p:
        ents.add(p)
    if ui.get("type") == "AssumedRole":
        iss = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {})
        if iss.get("type") == "Role":
            ents.add(("role", iss["arn"]))
        sname = ui["arn"].rsplit("/", 1)[-1]
        if RE_INSTANCE.match(sname):
            ents.add(("instance", sname))
    if ui.get("accessKeyId"):
        ents.add(("key", ui["accessKeyId"]))
    req = ev.get("requestParameters")
    if isinstance(req, dict) and isinstance(req.get("bucketName"), str):
        ents.add(("bucket", req["bucketName"]))
    acted = set()
    for part in (req, ev.get("responseElements"), [r.get("ARN") for r in ev.get("resources") or []]):
        for s in walk_strings(part):
            c = classify(s)
            if c:
                acted.add(c)
    if isinstance(req, dict) and isinstance(req.get("bucketName"), str):
        acted.add(("bucket", req["bucketName"]))
    return p, ents | acted, acted


# --------------------------------------------------------------------------------------------------
# the scenario


def check_scenario(d: Path):
    C.scope = d.name
    sc = tomllib.loads((d / "scenario.toml").read_text())
    world = json.loads((d / "world.json").read_text())
    acct = sc["account_id"]
    start, end = t_of(sc["start"]), t_of(sc["end"])
    regions = sc["regions"]
    C.check(sc["name"] == d.name, "name matches the directory")
    C.check(isinstance(sc.get("order"), int), "order is an integer")
    C.check(re.match(r"^\d{12}$", acct) and world["account_id"] == acct, "account id")
    C.check(world["region"] in regions, "world region in regions")
    for k in ("title", "synopsis", "timeline", "slices", "answer_key", "groups"):
        C.check(k in sc, f"scenario.toml has {k}")

    # world ---------------------------------------------------------------------------------------
    vpcs = {v["vpc_id"]: v for v in world["vpcs"]}
    subnets = {s["subnet_id"]: s for s in world["subnets"]}
    sgs = {g["group_id"]: g for g in world["security_groups"]}
    insts = {i["instance_id"]: i for i in world["instances"]}
    roles = {r["arn"]: r for r in world["roles"]}
    users = {u["arn"]: u for u in world["users"]}
    user_keys = {k["access_key_id"]: u for u in world["users"] for k in u["access_keys"]}
    temp = {c["access_key_id"]: c for c in world["temporary_credentials"]}
    buckets = {b["name"] for b in world["buckets"]}
    sessions = {c["principal_arn"] for c in world["temporary_credentials"] if ":assumed-role/" in c["principal_arn"]}
    enis = {}
    for i in insts.values():
        for e in i["enis"]:
            enis[e["eni_id"]] = (i["instance_id"], e)
    for n in world.get("nat_gateways", []):
        enis[n["eni_id"]] = (None, {"eni_id": n["eni_id"], "private_ip": n["private_ip"], "subnet_id": n["subnet_id"],
                                    "public_ip": n["public_ip"]})
    for lb in world.get("load_balancers", []):
        for e in lb["enis"]:
            enis[e["eni_id"]] = (None, e)
    C.check(world["sns_topics"], "world has an SNS topic")
    for v in vpcs.values():
        C.check(RE_ID17["vpc"].match(v["vpc_id"]), f"vpc id {v['vpc_id']}")
    for s in subnets.values():
        C.check(RE_ID17["subnet"].match(s["subnet_id"]) and s["vpc_id"] in vpcs, f"subnet {s['subnet_id']}")
        C.check(ipaddress.ip_network(s["cidr"]).subnet_of(ipaddress.ip_network(vpcs[s["vpc_id"]]["cidr"])),
                f"subnet {s['subnet_id']} inside its VPC")
    for g in sgs.values():
        C.check(RE_ID17["sg"].match(g["group_id"]) and g["vpc_id"] in vpcs, f"sg {g['group_id']}")
        for r in g["ingress"] + g["egress"]:
            if "source_group" in r:
                C.check(r["source_group"] in sgs, f"sg rule source {r['source_group']}")
    two_eni = False
    for i in insts.values():
        iid = i["instance_id"]
        C.check(RE_ID17["i"].match(iid), f"instance id {iid}")
        C.check(i["subnet_id"] in subnets and subnets[i["subnet_id"]]["vpc_id"] == i["vpc_id"], f"{iid} subnet/vpc")
        C.check(i["enis"][0]["private_ip"] == i["private_ip"] and i["enis"][0]["public_ip"] == i["public_ip"],
                f"{iid} primary ENI addresses")
        two_eni |= len(i["enis"]) > 1
        for e in i["enis"]:
            C.check(RE_ID17["eni"].match(e["eni_id"]), f"eni id {e['eni_id']}")
            C.check(e["subnet_id"] in subnets and ipaddress.ip_address(e["private_ip"]) in
                    ipaddress.ip_network(subnets[e["subnet_id"]]["cidr"]), f"{e['eni_id']} address in its subnet")
            C.check(all(g in sgs and sgs[g]["vpc_id"] == i["vpc_id"] for g in e["security_groups"]),
                    f"{e['eni_id']} security groups")
        for v in i["volumes"]:
            C.check(RE_ID17["vol"].match(v["volume_id"]), f"volume id {v['volume_id']}")
        if i["role_arn"]:
            r = roles.get(i["role_arn"])
            C.check(r and r["instance_profile_arn"] == i["instance_profile_arn"], f"{iid} role/profile")
        if i["asg"]:
            C.check(any(a["name"] == i["asg"] and iid in a["instances"] for a in world["auto_scaling_groups"]),
                    f"{iid} in its ASG")
    for a in world["auto_scaling_groups"]:
        C.check(all(x in insts for x in a["instances"]), f"ASG {a['name']} members exist")
    if d.name == "log4shell-c2":
        C.check(two_eni, "an instance with two ENIs")
    for k in list(user_keys) + list(temp):
        C.check(RE_KEY.match(k), f"key format {k}")
    for k in user_keys:
        C.check(k.startswith("AKIA"), f"user key {k} is AKIA")
    for k in temp:
        C.check(k.startswith("ASIA"), f"temporary key {k} is ASIA")
    ids = [x for x in list(insts) + list(enis) + list(subnets) + list(sgs) + list(vpcs)]
    C.check(len(ids) == len(set(ids)), "world ids are unique")

    # files and slices ----------------------------------------------------------------------------
    listed = {s["path"]: s for s in sc["slices"]}
    C.check(len(listed) == len(sc["slices"]), "slice paths are unique")
    extra = {"scenario.toml", "world.json", "threat-intel.txt"}
    for p in d.rglob("*"):
        if p.is_file():
            rel = p.relative_to(d).as_posix()
            if rel not in extra:
                C.check(rel in listed, f"{rel} is listed in [[slices]]")
    for s in sc["slices"]:
        C.check((d / s["path"]).is_file(), f"slice {s['path']} exists")
        C.check(s["kind"] in ("cloudtrail", "flows", "dns", "findings"), f"slice kind {s['kind']}")
        C.check(s["path"].split("/")[0] == {"cloudtrail": "cloudtrail", "flows": "flowlogs", "dns": "dns",
                                            "findings": "findings"}[s["kind"]], f"slice {s['path']} kind")
        C.check(start <= t_of(s["from"]) <= t_of(s["to"]) <= end, f"slice {s['path']} inside the scenario")

    def slice_span(path, times, n):
        s = listed.get(path)
        if s and times:
            C.check(t_of(s["from"]) == min(times) and t_of(s["to"]) == max(times),
                    f"slice {path} from/to match its records")
            C.check(s.get("records", n) == n, f"slice {path} record count")

    # findings ------------------------------------------------------------------------------------
    raw_findings, envelopes = load_findings(d)
    findings = [f for f, _ in raw_findings]
    by_id = {f["id"]: f for f in findings}
    C.check(len(by_id) == len(findings), "finding ids are unique")
    C.check(len(set(envelopes)) >= 2, f"a mix of finding envelopes ({sorted(set(envelopes))})")
    per_file = defaultdict(list)
    for f, rel in raw_findings:
        per_file[rel].append(f)
    for rel, fs in per_file.items():
        s = listed.get(rel)
        if s:
            C.check(t_of(s["from"]) == min(t_of(f["createdAt"]) // 1 for f in fs) and
                    t_of(s["to"]) == max(t_of(f["updatedAt"]) // 1 for f in fs), f"findings slice {rel} span")
    types = {f["type"] for f in findings}
    for t in REQUIRED_TYPES.get(d.name, []):
        C.check(t in types, f"has a {t} finding")
    samples = [f for f in findings if (f["service"].get("additionalInfo") or {}).get("sample") is True]
    C.check(samples, "has a GuardDuty sample finding")
    C.check(any(f["service"].get("action", {}).get("actionType") == "PORT_PROBE" for f in findings), "has a port probe")
    dets = {x["region"]: x["detector_id"] for x in world["guardduty_detectors"]}
    for f in findings:
        fid = f.get("id", "?")
        C.scope = f"{d.name} finding {fid} ({f.get('type')})"
        svc = f["service"]
        C.check(RE_HEX32.match(fid), "id is 32 hex")
        C.check(f["schemaVersion"] == "2.0" and f["partition"] == "aws", "schemaVersion/partition")
        C.check(f["accountId"] == acct and f["region"] in regions, "account/region")
        C.check(RE_HEX32.match(svc["detectorId"]) and dets.get(f["region"]) == svc["detectorId"], "detector id")
        C.check(f["arn"] == f"arn:aws:guardduty:{f['region']}:{acct}:detector/{svc['detectorId']}/finding/{fid}", "arn")
        C.check(RE_ISO_MS.match(f["createdAt"]) and RE_ISO_MS.match(f["updatedAt"]), "createdAt/updatedAt millis")
        C.check(RE_ISO.match(svc["eventFirstSeen"]) and RE_ISO.match(svc["eventLastSeen"]), "eventFirst/LastSeen")
        created, updated = t_of(f["createdAt"]), t_of(f["updatedAt"])
        first, last = t_of(svc["eventFirstSeen"]), t_of(svc["eventLastSeen"])
        C.check(first <= last and first <= created <= updated and last <= updated, "time order")
        C.check(start <= first and updated <= end, "inside the scenario range")
        C.check(isinstance(svc["count"], int) and svc["count"] >= 1 and svc["archived"] is False, "count/archived")
        C.check(isinstance(f["severity"], (int, float)), "severity is a number")
        if f["type"] in SEVERITY:
            C.check(float(f["severity"]) == SEVERITY[f["type"]], f"severity {f['severity']} is GuardDuty's default")
        C.check(f.get("title") and f.get("description"), "title/description")
        act = svc.get("action")
        at = (act or {}).get("actionType")
        block = {"NETWORK_CONNECTION": "networkConnectionAction", "DNS_REQUEST": "dnsRequestAction",
                 "AWS_API_CALL": "awsApiCallAction", "PORT_PROBE": "portProbeAction"}.get(at)
        if "Runtime" in f["type"]:
            C.check(act in (None, {}) and svc["runtimeDetails"]["process"]["executablePath"], "runtime shape")
        else:
            C.check(block and block in act, "action block matches actionType")
        if at == "NETWORK_CONNECTION":
            nca = act[block]
            C.check(nca["connectionDirection"] in ("INBOUND", "OUTBOUND") and "port" in nca["remotePortDetails"]
                    and "port" in nca["localPortDetails"] and nca["protocol"] and isinstance(nca["blocked"], bool),
                    "networkConnectionAction fields")
        if at in ("NETWORK_CONNECTION", "AWS_API_CALL"):
            r = act[block]["remoteIpDetails"]
            C.check(isinstance(r["organization"]["asn"], str) and "countryName" in r["country"] and
                    "lat" in r["geoLocation"], "remoteIpDetails shape")
        if f in samples:
            C.check(f["resource"]["instanceDetails"]["instanceId"] == "i-99999999", "sample placeholder instance")
            continue
        res = f["resource"]
        rt = res["resourceType"]
        C.check(rt in ("Instance", "AccessKey", "S3Bucket"), "resourceType")
        if rt == "Instance":
            idt = res["instanceDetails"]
            inst = insts.get(idt["instanceId"])
            if C.check(inst, "instance exists in the world"):
                C.check(idt["instanceType"] == inst["instance_type"] and idt["availabilityZone"] ==
                        inst["availability_zone"] and idt["imageId"] == inst["image_id"], "instance attributes")
                if inst["instance_profile_arn"]:
                    C.check(idt["iamInstanceProfile"]["arn"] == inst["instance_profile_arn"], "instance profile")
                C.check(len(idt["networkInterfaces"]) == len(inst["enis"]), "all ENIs listed")
                for nic, e in zip(idt["networkInterfaces"], inst["enis"]):
                    C.check(nic["networkInterfaceId"] == e["eni_id"] and nic["privateIpAddress"] == e["private_ip"]
                            and nic.get("publicIp") == e["public_ip"] and nic["subnetId"] == e["subnet_id"] and
                            nic["vpcId"] == inst["vpc_id"] and
                            [g["groupId"] for g in nic["securityGroups"]] == e["security_groups"],
                            f"ENI {e['eni_id']} matches the world")
                C.check({t["key"]: t["value"] for t in idt["tags"]} == inst["tags"], "tags")
        if rt in ("AccessKey", "S3Bucket"):
            akd = res["accessKeyDetails"]
            key = akd["accessKeyId"]
            C.check(key in user_keys or key in temp, f"access key {key} exists in the world")
            if akd["userType"] == "AssumedRole":
                role = roles.get(f"arn:aws:iam::{acct}:role/{akd['userName']}")
                C.check(role and akd["principalId"].startswith(role["role_id"] + ":"), "assumed role exists")
                C.check(key in temp and temp[key]["role_arn"] == (role or {}).get("arn"), "key belongs to the role")
            elif akd["userType"] == "IAMUser":
                u = users.get(f"arn:aws:iam::{acct}:user/{akd['userName']}")
                C.check(u and u["user_id"] == akd["principalId"] and user_keys.get(key) is u, "IAM user and key")
            elif akd["userType"] == "Root":
                C.check(akd["principalId"] == acct and key in temp, "root credentials")
        for b in res.get("s3BucketDetails") or []:
            C.check(b["name"] in buckets, f"bucket {b['name']} exists")
    C.scope = d.name

    # timeline ------------------------------------------------------------------------------------
    tl = {e["finding_id"]: e for e in sc["timeline"]}
    C.check(set(tl) == set(by_id), "timeline has exactly the findings")
    for fid, e in tl.items():
        f = by_id.get(fid)
        if not f:
            continue
        created = t_of(f["createdAt"])
        C.check(e["offset_secs"] == math.floor(created) - start, f"timeline offset of {fid}")
        C.check(start + e["offset_secs"] >= t_of(f["service"]["eventFirstSeen"]), f"{fid} appears after first seen")
        C.check(e.get("note"), f"timeline note of {fid}")

    # CloudTrail ----------------------------------------------------------------------------------
    events = []
    event_ids = set()
    for s in sc["slices"]:
        if s["kind"] != "cloudtrail":
            continue
        rel = s["path"]
        m = re.match(rf"^cloudtrail/AWSLogs/{acct}/CloudTrail/([a-z0-9-]+)/(\d{{4}})/(\d\d)/(\d\d)/{acct}_CloudTrail_"
                     rf"([a-z0-9-]+)_(\d{{8}}T\d{{4}}Z)_[A-Za-z0-9]{{16}}\.json\.gz$", rel)
        if not C.check(m, f"CloudTrail path {rel}"):
            continue
        region = m.group(1)
        C.check(region == m.group(5) and region in regions, f"{rel} region")
        text = read_text(d / rel)
        C.check(text.count("\n") == 1 and text.endswith("\n"), f"{rel} is one line")
        recs = json.loads(text)["Records"]
        times = []
        for r in recs:
            times.append(t_of(r["eventTime"]))
            C.check(r["awsRegion"] == region, f"{rel} event region")
            C.check(RE_ISO.match(r["eventTime"]) and start <= t_of(r["eventTime"]) < end, f"{rel} eventTime")
            C.check(r["eventTime"][:10].replace("-", "/") == "/".join(m.group(2, 3, 4)), f"{rel} date folder")
            C.check(RE_UUID4.match(r["eventID"]) and r["eventID"] not in event_ids, f"{rel} eventID")
            event_ids.add(r["eventID"])
            C.check(r["eventVersion"] in ("1.08", "1.09", "1.10", "1.11"), "eventVersion")
            C.check(r["recipientAccountId"] == acct, "recipientAccountId")
            C.check(r["eventType"] in ("AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"), "eventType")
            C.check(r["eventCategory"] in ("Management", "Data") and
                    r["managementEvent"] == (r["eventCategory"] == "Management"), "eventCategory")
            C.check(isinstance(r["readOnly"], bool), "readOnly")
            for k in ("eventSource", "eventName", "sourceIPAddress", "userAgent", "requestParameters",
                      "responseElements", "userIdentity"):
                C.check(k in r, f"event has {k}")
            if "errorCode" in r:
                C.check(r["responseElements"] is None and r.get("errorMessage"), "failed call shape")
            ui = r["userIdentity"]
            t = ui["type"]
            C.check(t in ("IAMUser", "AssumedRole", "Root", "AWSService"), f"identity type {t}")
            if t == "AssumedRole":
                role_name, sname = ui["arn"].split("assumed-role/")[1].split("/")
                iss = ui["sessionContext"]["sessionIssuer"]
                role = roles.get(iss["arn"])
                C.check(role and role["name"] == role_name == iss["userName"] and iss["type"] == "Role" and
                        ui["principalId"] == f"{role['role_id']}:{sname}", f"assumed-role identity {ui['arn']}")
                c = temp.get(ui["accessKeyId"])
                C.check(c and c["principal_arn"] == ui["arn"] and t_of(c["issued_at"]) <= t_of(r["eventTime"]) <
                        t_of(c["expires_at"]) and ui["sessionContext"]["attributes"]["creationDate"] == c["issued_at"],
                        f"session key {ui['accessKeyId']} valid for {ui['arn']} at {r['eventTime']}")
                if RE_INSTANCE.match(sname):
                    C.check(sname in insts and insts[sname]["role_arn"] == iss["arn"], f"instance session {sname}")
                    C.check(ui["sessionContext"].get("ec2RoleDelivery") in ("1.0", "2.0"), "ec2RoleDelivery")
            elif t == "IAMUser":
                u = users.get(ui["arn"])
                C.check(u and ui["userName"] == u["name"] and ui["principalId"] == u["user_id"], f"user {ui['arn']}")
                if "accessKeyId" in ui:
                    k = ui["accessKeyId"]
                    C.check(user_keys.get(k) is u or (k in temp and temp[k]["user_arn"] == ui["arn"]),
                            f"key {k} belongs to {ui['arn']}")
            elif t == "Root":
                C.check(ui["arn"] == f"arn:aws:iam::{acct}:root", "root arn")
            events.append(r)
        slice_span(rel, times, len(recs))
    C.check(len(events) >= 1000, f"thousands of CloudTrail events ({len(events)})")
    for r in events:
        p, ents, acted = event_entities(r)
        for k, v in ents:
            if k == "instance":
                C.check(v in insts, f"instance {v} in {r['eventName']} {r['eventID']} exists")
            elif k == "role" and f":{acct}:" in v:
                C.check(v in roles, f"role {v} exists")
            elif k == "user" and f":{acct}:" in v and not v.endswith(":root"):
                C.check(v in users, f"user {v} exists")
            elif k == "key":
                C.check(v in user_keys or v in temp, f"key {v} in {r['eventName']} exists")
            elif k == "bucket":
                C.check(v in buckets, f"bucket {v} exists")
            elif k == "session" and f":{acct}:" in v:
                C.check(v in sessions, f"session {v} exists")

    # flow logs -----------------------------------------------------------------------------------
    flows = []
    vpc_nets = [ipaddress.ip_network(v["cidr"]) for v in vpcs.values()]
    known_private = {e["private_ip"] for _, e in enis.values()}
    nodata = 0
    for s in sc["slices"]:
        if s["kind"] != "flows":
            continue
        rel = s["path"]
        C.check(re.match(rf"^flowlogs/AWSLogs/{acct}/vpcflowlogs/[a-z0-9-]+/\d{{4}}/\d\d/\d\d/{acct}_vpcflowlogs_"
                         rf"[a-z0-9-]+_fl-[0-9a-f]+_\d{{8}}T\d{{4}}Z_[0-9a-f]{{8}}\.log\.gz$", rel), f"flow path {rel}")
        lines = read_text(d / rel).splitlines()
        header = lines[0].split()
        C.check(lines[0] == V2 or {"vpc-id", "subnet-id", "instance-id", "flow-direction"} <= set(header),
                f"{rel} header is v2 default or a v5 custom format")
        starts, ends = [], []
        for line in lines[1:]:
            vals = line.split()
            if not C.check(len(vals) == len(header), f"{rel} field count"):
                continue
            row = dict(zip(header, vals))
            C.check(row["account-id"] == acct and row["version"] in ("2", "3", "4", "5"), f"{rel} version/account")
            eni_id = row["interface-id"]
            owner = enis.get(eni_id)
            if not C.check(owner, f"{rel} interface {eni_id} exists"):
                continue
            starts.append(int(row["start"]))
            ends.append(int(row["end"]))
            C.check(start <= int(row["start"]) < int(row["end"]) <= end, f"{rel} times")
            if "instance-id" in row:
                C.check(row["instance-id"] == (owner[0] or "-"), f"{rel} instance-id matches {eni_id}")
                C.check(row["subnet-id"] == owner[1]["subnet_id"], f"{rel} subnet-id matches {eni_id}")
            if row["log-status"] in ("NODATA", "SKIPDATA"):
                nodata += 1
                C.check(row["srcaddr"] == "-" and row["packets"] == "-", f"{rel} {row['log-status']} row")
                continue
            C.check(row["log-status"] == "OK" and row["action"] in ("ACCEPT", "REJECT"), f"{rel} status/action")
            addrs = [row["srcaddr"], row["dstaddr"]] + [row[k] for k in ("pkt-srcaddr", "pkt-dstaddr") if k in row]
            C.check(owner[1]["private_ip"] in addrs, f"{rel} row touches its ENI's address")
            for a in (row["srcaddr"], row["dstaddr"]):
                ipa = ipaddress.ip_address(a)
                if any(ipa in n for n in vpc_nets):
                    C.check(a in known_private, f"{rel} VPC address {a} belongs to a world ENI")
            remote = row["dstaddr"] if row["srcaddr"] == owner[1]["private_ip"] else row["srcaddr"]
            flows.append({"eni": eni_id, "instance": owner[0], "v5_instance": row.get("instance-id", "-"),
                          "remote": remote, "pkt": [row.get("pkt-srcaddr"), row.get("pkt-dstaddr")],
                          "start": int(row["start"]), "end": int(row["end"]), "dport": row["dstport"],
                          "sport": row["srcport"], "action": row["action"]})
        if starts:
            C.check(t_of(s["from"]) == min(starts) and t_of(s["to"]) == max(ends), f"slice {rel} span")
    C.check(nodata >= 1, "a NODATA row or two")

    # DNS -----------------------------------------------------------------------------------------
    dns = []
    keyset = ["version", "account_id", "region", "vpc_id", "query_timestamp", "query_name", "query_type",
              "query_class", "rcode", "answers", "srcaddr", "srcport", "transport", "srcids"]
    for s in sc["slices"]:
        if s["kind"] != "dns":
            continue
        rel = s["path"]
        times = []
        n = 0
        for line in read_text(d / rel).splitlines():
            q = json.loads(line)
            n += 1
            C.check(list(q) == keyset, f"{rel} record keys")
            C.check(q["version"] == "1.100000" and q["account_id"] == acct and q["region"] in regions, f"{rel} header fields")
            C.check(q["vpc_id"] in vpcs and vpcs[q["vpc_id"]]["region"] == q["region"], f"{rel} vpc")
            C.check(RE_ISO.match(q["query_timestamp"]) and start <= t_of(q["query_timestamp"]) < end, f"{rel} time")
            times.append(t_of(q["query_timestamp"]))
            C.check(q["query_name"].endswith(".") and q["query_class"] == "IN", f"{rel} query name")
            C.check(isinstance(q["srcport"], str) and q["srcport"].isdigit(), f"{rel} srcport is a string")
            C.check(q["rcode"] in ("NOERROR", "NXDOMAIN", "SERVFAIL"), f"{rel} rcode")
            C.check(all(set(a) == {"Rdata", "Type", "Class"} for a in q["answers"]), f"{rel} answers")
            C.check(q["rcode"] != "NXDOMAIN" or not q["answers"], f"{rel} NXDOMAIN has no answers")
            inst = insts.get(q["srcids"]["instance"])
            if C.check(inst, f"{rel} instance {q['srcids']['instance']} exists"):
                C.check(inst["private_ip"] == q["srcaddr"] and inst["vpc_id"] == q["vpc_id"], f"{rel} srcaddr/vpc")
            dns.append(q)
        slice_span(rel, times, n)

    # evidence behind each finding ----------------------------------------------------------------
    ev_by_key = defaultdict(list)
    for r in events:
        ev_by_key[(r["userIdentity"].get("accessKeyId"), ip_canon(r["sourceIPAddress"]))].append(r)
    for f in findings:
        if f in samples:
            continue
        C.scope = f"{d.name} finding {f['id']} ({f['type']})"
        svc = f["service"]
        first, last, created = t_of(svc["eventFirstSeen"]), t_of(svc["eventLastSeen"]), t_of(f["createdAt"])
        act = svc.get("action") or {}
        at = act.get("actionType")
        inst = insts.get(((f["resource"].get("instanceDetails") or {}).get("instanceId")))
        inst_enis = {e["eni_id"] for e in inst["enis"]} if inst else set()
        if at == "AWS_API_CALL":
            a = act["awsApiCallAction"]
            key = f["resource"]["accessKeyDetails"]["accessKeyId"]
            rip = a["remoteIpDetails"]["ipAddressV4"]
            evs = ev_by_key[(key, rip)]
            C.check(any(r["eventName"] == a["api"] and first <= t_of(r["eventTime"]) <= last for r in evs),
                    f"a {a['api']} call with {key} from {rip} between first and last seen")
            C.check(evs and min(t_of(r["eventTime"]) for r in evs) <= first, "first seen is not before the first call")
        elif at == "NETWORK_CONNECTION":
            rip = act["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"]
            C.check(any(x["eni"] in inst_enis and (x["remote"] == rip or rip in x["pkt"]) and
                        first - 600 <= x["start"] <= last + 600 for x in flows), f"flow records with {rip}")
        elif at == "PORT_PROBE":
            for pd in act["portProbeAction"]["portProbeDetails"]:
                rip = pd["remoteIpDetails"]["ipAddressV4"]
                C.check(any(x["eni"] in inst_enis and x["remote"] == rip and x["sport"] == str(pd["localPortDetails"]["port"])
                            and first - 600 <= x["start"] <= last + 600 for x in flows), f"probe flows from {rip}")
        elif at == "DNS_REQUEST":
            dom = act["dnsRequestAction"]["domain"].rstrip(".").lower()
            qs = [q for q in dns if q["srcids"]["instance"] == inst["instance_id"] and
                  (q["query_name"].rstrip(".").lower() == dom or q["query_name"].rstrip(".").lower().endswith("." + dom))]
            C.check(any(first <= t_of(q["query_timestamp"]) <= last for q in qs), f"DNS queries for {dom}")
            C.check(qs and min(t_of(q["query_timestamp"]) for q in qs) <= created, "queries before the finding")
        C.check(first <= created, "created after first seen")
    C.scope = d.name

    # groups --------------------------------------------------------------------------------------
    got = {(g, s) for g, s in groups_of(findings)}
    want = {(frozenset(g["findings"]), float(g["severity"])) for g in sc["groups"]}
    C.check(got == want, f"[[groups]] match the grouping rule: manifest {sorted(map(sorted, (g for g, _ in want)))} "
                         f"vs computed {sorted(map(sorted, (g for g, _ in got)))}")

    # the entity graph ----------------------------------------------------------------------------
    def build_graph(use_world_eni_map: bool):
        adj = defaultdict(set)

        def edge(a, b):
            adj[a].add(b)
            adj[b].add(a)

        for f in findings:
            for e in finding_entities(f):
                edge(("finding", f["id"]), e)
            if f in samples:
                continue
            idt = f["resource"].get("instanceDetails") or {}
            if idt.get("instanceId"):
                act = f["service"].get("action") or {}
                if act.get("actionType") == "DNS_REQUEST":
                    edge(("instance", idt["instanceId"]), ("domain", act["dnsRequestAction"]["domain"].rstrip(".").lower()))
        for r in events:
            p, ents, acted = event_entities(r)
            if not p:
                continue
            ui = r["userIdentity"]
            if ui["type"] == "AssumedRole":
                iss = ui["sessionContext"]["sessionIssuer"]
                edge(p, ("role", iss["arn"]))
                sname = ui["arn"].rsplit("/", 1)[-1]
                if RE_INSTANCE.match(sname):
                    edge(("instance", sname), p)
            if ui.get("accessKeyId"):
                edge(("key", ui["accessKeyId"]), p)
            ip = ip_canon(r["sourceIPAddress"])
            if ip:
                edge(p, ("ip", ip))
            for e in acted:
                if e != p:
                    edge(p, e)
        for x in flows:
            inst = x["v5_instance"] if x["v5_instance"] != "-" else (x["instance"] if use_world_eni_map else None)
            if inst and ip_canon(x["remote"]) and routable(x["remote"]):
                edge(("instance", inst), ("ip", x["remote"]))
        for q in dns:
            edge(("instance", q["srcids"]["instance"]), ("domain", q["query_name"].rstrip(".").lower()))
        return adj

    def reach(adj, src, through=None):
        seen, q = {src}, deque([src])
        while q:
            n = q.popleft()
            if n != src and (n[0] in ("account", "ua") or (n[0] == "ip" and not routable(n[1]))):
                continue  # accounts, user agents and private addresses do not carry a path
            if n != src and through is not None and n not in through:
                continue
            for m in adj[n]:
                if m not in seen:
                    seen.add(m)
                    q.append(m)
        return seen

    ak = sc["answer_key"]
    targets = set()

    def parse_entity(s):
        k, _, v = s.partition(":")
        C.check(k in ("finding", "ip", "domain", "instance", "role", "session", "user", "key", "bucket"),
                f"answer-key entity kind {s}")
        if k == "ip":
            v = ip_canon(v) or v
        if k == "domain":
            v = v.rstrip(".").lower()
        return (k, v)

    for s in ak["compromised"]:
        k, v = parse_entity(s)
        targets.add((k, v))
        exists = {"instance": v in insts, "role": v in roles, "user": v in users, "key": v in user_keys or v in temp,
                  "session": v in sessions, "bucket": v in buckets}.get(k, True)
        C.check(exists, f"compromised {s} exists in the world")
    for ip in ak["attacker_ips"]:
        targets.add(("ip", ip_canon(ip)))
        C.check(any(x["remote"] == ip for x in flows) or any(r["sourceIPAddress"] == ip for r in events) or
                any(("ip", ip) in finding_entities(f) for f in findings), f"attacker ip {ip} appears in the evidence")
    for dom in ak["attacker_domains"]:
        targets.add(("domain", dom))
        C.check(any(q["query_name"].rstrip(".") == dom for q in dns) or
                any(("domain", dom) in finding_entities(f) for f in findings), f"attacker domain {dom} appears")
    for a in ak["right_actions"] + ak["wrong_actions"]:
        C.check(a["action"] in ACTIONS, f"action {a['action']}")
        k, v = parse_entity(a["target"])
        C.check(k == ACTION_TARGET.get(a["action"]), f"{a['action']} targets a {ACTION_TARGET.get(a['action'])}")
        if k == "instance":
            C.check(v in insts, f"{a['target']} exists")
        if k == "finding":
            C.check(v in by_id, f"{a['target']} exists")
        if k == "role":
            C.check(v in roles, f"{a['target']} exists")
        if a in ak["right_actions"]:
            targets.add((k, v))
            if a["action"] == "disable-key":
                C.check(v in user_keys, "disable-key targets a long-term user key")
        else:
            C.check(a.get("why"), "wrong action says why")
    right = [(a["action"], a["target"]) for a in ak["right_actions"]]
    C.check(len(set(right)) == len(right), "right actions are distinct")
    C.check(not set(right) & {(a["action"], a["target"]) for a in ak["wrong_actions"]}, "right and wrong disjoint")
    top = max(float(f["severity"]) for f in findings)
    # the incident's own nodes: the answer key, the findings and what they name
    incident = set(targets) | {("finding", f["id"]) for f in findings}
    for f in findings:
        if f not in samples:
            incident |= finding_entities(f)
    for strict in (True, False):
        adj = build_graph(use_world_eni_map=not strict)
        for f in findings:
            if float(f["severity"]) != top:
                continue
            seen = reach(adj, ("finding", f["id"]))
            for tgt in sorted(targets):
                C.check(tgt in seen, f"{tgt[0]}:{tgt[1]} reachable from top finding {f['id']} ({f['type']})"
                                     + (" without world ENI mapping" if strict else ""))
            if strict:
                seen = reach(adj, ("finding", f["id"]), through=incident)
                for tgt in sorted(targets):
                    C.check(tgt in seen, f"{tgt[0]}:{tgt[1]} reachable from {f['id']} ({f['type']}) through "
                                         f"incident nodes only")

    # threat intel --------------------------------------------------------------------------------
    ti = d / "threat-intel.txt"
    if ti.exists():
        for n, line in enumerate(ti.read_text().splitlines(), 1):
            v = line.split("#")[0].strip()
            if v:
                C.check(ip_canon(v) or re.match(r"^[a-z0-9.-]+\.[a-z]+$", v), f"threat-intel line {n}: {v}")
    if d.name == "dns-c2-exfil":
        C.check(ti.exists(), "dns-c2-exfil has threat-intel.txt")
        indicators = {line.split("#")[0].strip() for line in ti.read_text().splitlines()}
        for x in ak["attacker_ips"] + ak["attacker_domains"][:2]:
            C.check(x in indicators, f"threat intel marks {x}")

    return {"findings": len(findings), "events": len(events), "flows": len(flows) + nodata, "dns": len(dns),
            "groups": len(sc["groups"])}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    demo = Path(argv[0]) if argv else DEMO
    total = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file())
    C.scope = "demo"
    C.check(total < MAX_BYTES, f"demo/ is {total} bytes (limit {MAX_BYTES})")
    names = sorted(p.name for p in demo.iterdir() if (p / "scenario.toml").is_file())
    C.check(set(REQUIRED_TYPES) <= set(names), f"all three scenarios present ({names})")
    for name in names:
        before = len(C.errors)
        try:
            res = check_scenario(demo / name)
        except Exception as e:  # a parse failure is a failure, with where it happened
            C.fail(f"{type(e).__name__}: {e}")
            res = {}
        status = "ok" if len(C.errors) == before else f"{len(C.errors) - before} problems"
        print(f"{name}: {status}  " + ", ".join(f"{k} {v}" for k, v in res.items()))
    for e in C.errors[:200]:
        print("FAIL " + e)
    if len(C.errors) > 200:
        print(f"... and {len(C.errors) - 200} more")
    print(f"demo/: {total / 1024:.0f} KiB; {'OK' if not C.errors else f'{len(C.errors)} problems'}")
    return 1 if C.errors else 0


if __name__ == "__main__":
    sys.exit(main())
