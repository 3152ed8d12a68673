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
        for dev, size in volumes:
            vols.append({"volume_id": self.rng.aws_id("vol"), "device": dev, "size_gib": size, "volume_type": "gp3",
                         "encrypted": True})
        t = {"Name": name}
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
        svc, req = "cloudtrail.amazonaws.com", {"name": kw["trail"]}
    elif api == "ListTrails":
        svc, req = "cloudtrail.amazonaws.com", None
    elif api == "GetEventSelectors":
        svc, req = "cloudtrail.amazonaws.com", {"trailName": kw["trail"]}
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
    for t in periodic(rng, start, end, 900, 20):
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
