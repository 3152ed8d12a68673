"""Starts moto's server for vigil's tests, after correcting the gaps between moto and AWS that
vigil's actions depend on. vigil is not bent to the emulator: each patch below restores the
behaviour of the AWS API reference, which is cited.

Usage: python launch.py PORT   (binds 127.0.0.1:PORT; exits when its parent process goes away)

Pinned to moto 5.x (scripts/test.sh installs moto[server]==5.2.5); each patch checks that the
code it replaces is still there and fails loudly otherwise.
"""

import os
import sys
import threading
import time

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

import moto  # noqa: E402

if not moto.__version__.startswith("5."):
    sys.exit(f"vigil's moto launcher is written for moto 5.x, found {moto.__version__}")

# --- Patch 1: an ENI's security groups are its own -----------------------------------------------
# AWS: ModifyNetworkInterfaceAttribute, parameter SecurityGroupIds/Groups: "Changes the security
# groups for the network interface. The new set of groups you specify replaces the current set."
# (EC2 API Reference, ModifyNetworkInterfaceAttribute), and DescribeNetworkInterfaces returns that
# set. moto 5.2.5's NetworkInterface.group_set returns the union of the ENI's groups with the
# attached instance's groups (moto/ec2/models/elastic_network_interfaces.py), so an attached ENI
# can never be narrowed to one group. The instance's groups are given to its primary ENI at launch
# (Instance.prep_nics), so the ENI's own set is the whole truth.
from moto.ec2.models.elastic_network_interfaces import NetworkInterface  # noqa: E402

assert isinstance(NetworkInterface.__dict__.get("group_set"), property), "moto changed group_set"


def _own_group_set(self):
    return self._group_set


NetworkInterface.group_set = property(_own_group_set)

# --- Patch 2: CreateSnapshots CopyTagsFromSource=volume -----------------------------------------
# AWS: CreateSnapshots, parameter CopyTagsFromSource: "Copies the tags from the specified volume
# to corresponding snapshot." (EC2 API Reference, CreateSnapshots). moto 5.2.5 documents it as
# "not yet implemented" and ignores it. Tags given in TagSpecifications are applied as well.
from moto.ec2.responses.elastic_block_store import ElasticBlockStore  # noqa: E402

_orig_create_snapshots = ElasticBlockStore.create_snapshots


def _create_snapshots(self):
    result = _orig_create_snapshots(self)
    if str(self._get_param("CopyTagsFromSource", "")).lower() == "volume":
        explicit = self._parse_tag_specification().get("snapshot", {})
        for snap in result.result["Snapshots"]:
            vol_tags = self.ec2_backend.describe_tags(
                filters={"resource-id": [snap.volume.id]}
            )
            copied = {t["key"]: t["value"] for t in vol_tags}
            copied.update(explicit)
            snap.add_tags(copied)
    return result


ElasticBlockStore.create_snapshots = _create_snapshots


# --- Patch 2b: DryRun on network ACL entries -----------------------------------------------------
# AWS: CreateNetworkAclEntry and DeleteNetworkAclEntry take DryRun: "Checks whether you have the
# required permissions for the action, without actually making the request ... If you have the
# required permissions, the error response is DryRunOperation" (EC2 API Reference). moto 5.2.5's
# NetworkACLs responses ignore it and make the change; vigil's dry run would then change the
# account. Both now answer DryRunOperation first, as moto's other EC2 calls do (error_on_dryrun).
from moto.ec2.responses.network_acls import NetworkACLs  # noqa: E402

for _name in ("create_network_acl_entry", "delete_network_acl_entry"):
    _orig = getattr(NetworkACLs, _name)
    assert "error_on_dryrun" not in _orig.__code__.co_names, f"moto now checks DryRun in {_name}: drop this"

    def _checked(self, _orig=_orig):
        self.error_on_dryrun()
        return _orig(self)

    setattr(NetworkACLs, _name, _checked)

# --- Patch 3: SigV4 over the body the client sent ----------------------------------------------
# AWS: "Signature Version 4 ... the hashed payload is the SHA-256 of the request body" (IAM User
# Guide, Create a signed AWS API request): the signature covers the bytes sent, and a form body may
# encode a space as %20 (as the AWS SDK for Rust does) or as + (as botocore does). moto 5.2.5 only
# checks signatures when IAM enforcement is on (/moto-api/reset-auth), and then rebuilds a form
# body from the parsed parameters with urlencode's quote_plus (moto/iam/access_control.py,
# IAMRequestBase._create_aws_request), so any %20-encoded request with a space in a parameter
# fails with AuthFailure. Accept the signature when it matches either encoding of the same
# parameters in the same order, which is what the client could have sent.
from urllib.parse import quote, urlencode  # noqa: E402

from moto.iam.access_control import IAMRequestBase  # noqa: E402

assert hasattr(IAMRequestBase, "check_signature"), "moto changed IAMRequestBase"
_orig_check_signature = IAMRequestBase.check_signature


def _check_signature(self):
    try:
        _orig_check_signature(self)
    except Exception:
        if self._body or not isinstance(self._data, dict):
            raise
        saved = self._body
        self._body = urlencode(list(self._data.items()), doseq=True, quote_via=quote)
        try:
            sent = self._get_string_between("Signature=", ",", self._headers["Authorization"])
            if sent != self._calculate_signature():
                self._raise_signature_does_not_match()
        finally:
            self._body = saved


IAMRequestBase.check_signature = _check_signature


# --- Addition: Route 53 Resolver DNS Firewall ----------------------------------------------------
# moto 5.2.5 implements Route 53 Resolver endpoints, rules and query logging but not DNS Firewall,
# which vigil's block-domain uses. The operations below are added in the wire shape of the Route 53
# Resolver API Reference (JSON 1.1, X-Amz-Target Route53Resolver.<Operation>): CreateFirewallDomainList,
# UpdateFirewallDomains (ADD/REMOVE/REPLACE), ListFirewallDomainLists, ListFirewallDomains,
# CreateFirewallRuleGroup, ListFirewallRuleGroups, CreateFirewallRule (BLOCK needs a BlockResponse),
# ListFirewallRules, AssociateFirewallRuleGroup (the VPC must exist; one association per rule group
# and VPC, and one per priority in a VPC: ConflictException otherwise), and
# ListFirewallRuleGroupAssociations. State lives on moto's per-region backend, so
# /moto-api/reset clears it. No pagination: every list fits one page here.
import datetime  # noqa: E402
import json as _json  # noqa: E402
import re as _re  # noqa: E402
import secrets  # noqa: E402

from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.route53resolver.responses import Route53ResolverResponse  # noqa: E402


def _fw(resp):
    backend = resp.route53resolver_backend
    if not hasattr(backend, "_vigil_fw"):
        backend._vigil_fw = {"lists": {}, "groups": {}, "rules": [], "assocs": {}}
    return backend._vigil_fw


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _arn(resp, kind, rid):
    return f"arn:aws:route53resolver:{resp.region}:{resp.current_account}:{kind}/{rid}"


def _not_found(rid):
    return JsonRESTError("ResourceNotFoundException", f"[RSLVR-00901] Can't find the resource with ID '{rid}'")


def _create_firewall_domain_list(self):
    fw = _fw(self)
    rid = "rslvr-fdl-" + secrets.token_hex(9)[:17]
    now = _now()
    item = {
        "Id": rid,
        "Arn": _arn(self, "firewall-domain-list", rid),
        "Name": self._get_param("Name"),
        "DomainCount": 0,
        "Status": "COMPLETE",
        "StatusMessage": "Created Firewall Domain List",
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "CreationTime": now,
        "ModificationTime": now,
        "_domains": [],
    }
    fw["lists"][rid] = item
    return _json.dumps({"FirewallDomainList": {k: v for k, v in item.items() if not k.startswith("_")}})


def _update_firewall_domains(self):
    fw = _fw(self)
    rid = self._get_param("FirewallDomainListId")
    item = fw["lists"].get(rid)
    if item is None:
        raise _not_found(rid)
    op = self._get_param("Operation")
    domains = self._get_param("Domains") or []
    if op == "ADD":
        item["_domains"].extend(d for d in domains if d not in item["_domains"])
    elif op == "REMOVE":
        item["_domains"] = [d for d in item["_domains"] if d not in domains]
    elif op == "REPLACE":
        item["_domains"] = list(domains)
    else:
        raise JsonRESTError("ValidationException", f"Operation {op} is not ADD, REMOVE or REPLACE")
    item["DomainCount"] = len(item["_domains"])
    item["ModificationTime"] = _now()
    return _json.dumps({"Id": rid, "Name": item["Name"], "Status": "COMPLETE", "StatusMessage": "Finished domain list update"})


def _list_firewall_domain_lists(self):
    keep = ("Id", "Arn", "Name", "CreatorRequestId")
    lists = [{k: v for k, v in i.items() if k in keep} for i in _fw(self)["lists"].values()]
    return _json.dumps({"FirewallDomainLists": lists})


def _list_firewall_domains(self):
    rid = self._get_param("FirewallDomainListId")
    item = _fw(self)["lists"].get(rid)
    if item is None:
        raise _not_found(rid)
    return _json.dumps({"Domains": item["_domains"]})


def _create_firewall_rule_group(self):
    fw = _fw(self)
    rid = "rslvr-frg-" + secrets.token_hex(9)[:17]
    now = _now()
    item = {
        "Id": rid,
        "Arn": _arn(self, "firewall-rule-group", rid),
        "Name": self._get_param("Name"),
        "RuleCount": 0,
        "Status": "COMPLETE",
        "StatusMessage": "Created Firewall Rule Group",
        "OwnerId": self.current_account,
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "ShareStatus": "NOT_SHARED",
        "CreationTime": now,
        "ModificationTime": now,
    }
    fw["groups"][rid] = item
    return _json.dumps({"FirewallRuleGroup": item})


def _list_firewall_rule_groups(self):
    keep = ("Id", "Arn", "Name", "OwnerId", "CreatorRequestId", "ShareStatus")
    groups = [{k: v for k, v in g.items() if k in keep} for g in _fw(self)["groups"].values()]
    return _json.dumps({"FirewallRuleGroups": groups})


def _create_firewall_rule(self):
    fw = _fw(self)
    gid = self._get_param("FirewallRuleGroupId")
    lid = self._get_param("FirewallDomainListId")
    if gid not in fw["groups"]:
        raise _not_found(gid)
    if lid not in fw["lists"]:
        raise _not_found(lid)
    action = self._get_param("Action")
    if action == "BLOCK" and not self._get_param("BlockResponse"):
        raise JsonRESTError("ValidationException", "BlockResponse is required when Action is BLOCK")
    priority = self._get_param("Priority")
    if any(r["FirewallRuleGroupId"] == gid and r["Priority"] == priority for r in fw["rules"]):
        raise JsonRESTError("ConflictException", f"A rule with priority {priority} already exists in {gid}")
    now = _now()
    rule = {
        "FirewallRuleGroupId": gid,
        "FirewallDomainListId": lid,
        "Name": self._get_param("Name"),
        "Priority": priority,
        "Action": action,
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "CreationTime": now,
        "ModificationTime": now,
    }
    if self._get_param("BlockResponse"):
        rule["BlockResponse"] = self._get_param("BlockResponse")
    fw["rules"].append(rule)
    fw["groups"][gid]["RuleCount"] += 1
    return _json.dumps({"FirewallRule": rule})


def _list_firewall_rules(self):
    gid = self._get_param("FirewallRuleGroupId")
    fw = _fw(self)
    if gid not in fw["groups"]:
        raise _not_found(gid)
    return _json.dumps({"FirewallRules": [r for r in fw["rules"] if r["FirewallRuleGroupId"] == gid]})


def _associate_firewall_rule_group(self):
    fw = _fw(self)
    gid = self._get_param("FirewallRuleGroupId")
    vpc = self._get_param("VpcId")
    if gid not in fw["groups"]:
        raise _not_found(gid)
    try:
        ec2_backends[self.current_account][self.region].get_vpc(vpc)
    except Exception:
        raise _not_found(vpc) from None
    priority = self._get_param("Priority")
    for a in fw["assocs"].values():
        if a["VpcId"] == vpc and (a["FirewallRuleGroupId"] == gid or a["Priority"] == priority):
            raise JsonRESTError(
                "ConflictException",
                f"The VPC {vpc} already has {a['FirewallRuleGroupId']} at priority {a['Priority']}",
            )
    rid = "rslvr-frgassoc-" + secrets.token_hex(9)[:17]
    now = _now()
    item = {
        "Id": rid,
        "Arn": _arn(self, "firewall-rule-group-association", rid),
        "FirewallRuleGroupId": gid,
        "VpcId": vpc,
        "Name": self._get_param("Name"),
        "Priority": priority,
        "MutationProtection": self._get_param("MutationProtection") or "DISABLED",
        "Status": "COMPLETE",
        "StatusMessage": "Finished rule group association update",
        "CreatorRequestId": self._get_param("CreatorRequestId"),
        "CreationTime": now,
        "ModificationTime": now,
    }
    fw["assocs"][rid] = item
    return _json.dumps({"FirewallRuleGroupAssociation": item})


def _list_firewall_rule_group_associations(self):
    gid = self._get_param("FirewallRuleGroupId")
    vpc = self._get_param("VpcId")
    assocs = [
        a
        for a in _fw(self)["assocs"].values()
        if (gid is None or a["FirewallRuleGroupId"] == gid) and (vpc is None or a["VpcId"] == vpc)
    ]
    return _json.dumps({"FirewallRuleGroupAssociations": assocs})


for _name, _fn in list(globals().items()):
    if _name.startswith("_") and _name[1:] in (
        "create_firewall_domain_list",
        "update_firewall_domains",
        "list_firewall_domain_lists",
        "list_firewall_domains",
        "create_firewall_rule_group",
        "list_firewall_rule_groups",
        "create_firewall_rule",
        "list_firewall_rules",
        "associate_firewall_rule_group",
        "list_firewall_rule_group_associations",
    ):
        assert not hasattr(Route53ResolverResponse, _name[1:]), f"moto now has {_name[1:]}: drop ours"
        setattr(Route53ResolverResponse, _name[1:], _fn)


# --- Addition: GuardDuty findings ----------------------------------------------------------------
# moto 5.2.5 has GuardDuty detectors but no findings. Added in the wire shape of the GuardDuty API
# Reference (REST-JSON): ListFindings (POST /detector/{detectorId}/findings: findingCriteria with
# updatedAt gt/gte/greaterThan/greaterThanOrEqual in epoch milliseconds, service.archived eq, severity
# gte/greaterThanOrEqual; maxResults (1-50, default 50) and nextToken paging; an unknown detector is a
# BadRequestException) and GetFindings (POST /detector/{detectorId}/findings/get: up to 50 findingIds,
# unknown ids left out) and ArchiveFindings (POST /detector/{detectorId}/findings/archive, 1-50
# findingIds; archived findings then answer service.archived = true, until /moto-api/reset).
# GuardDuty has no call that writes a finding, so the tests seed them (not an
# AWS operation): VIGIL_MOTO_FINDINGS names a JSON file {"REGION": [finding, ...]} of findings as
# GetFindings returns them, read at each call, so a test can add or update findings between polls.
# Every call is counted in the file named by VIGIL_MOTO_FINDINGS + ".calls" ({"ListFindings": n, ...})
# so a test can check a poll's cost.
from moto.guardduty import urls as _gd_urls  # noqa: E402
from moto.guardduty.responses import GuardDutyResponse  # noqa: E402

_calls_lock = threading.Lock()


def _gd_archived(resp):
    # On moto's per-region backend, so /moto-api/reset clears it.
    backend = resp.guardduty_backend
    if not hasattr(backend, "_vigil_archived"):
        backend._vigil_archived = set()
    return backend._vigil_archived


def _gd_seeded(resp):
    region = resp.region
    path = os.environ.get("VIGIL_MOTO_FINDINGS")
    if not path:
        return []
    try:
        with open(path) as f:
            found = _json.load(f).get(region, [])
    except (OSError, ValueError):
        return []
    archived = _gd_archived(resp)
    for f in found:
        if f.get("id") in archived:
            f.setdefault("service", {})["archived"] = True
    return found


def _count_call(env, action, at=False, keep=None):
    """Counts a call in the file named by the environment variable `env` + ".calls" (and, with
    `at`, when it was made; with `keep` = (list, value), appends the value to that list), for the
    tests to read a poll's cost or what was sent."""
    path = os.environ.get(env)
    if not path:
        return
    with _calls_lock:
        calls = {}
        try:
            with open(path + ".calls") as f:
                calls = _json.load(f)
        except (OSError, ValueError):
            pass
        calls[action] = calls.get(action, 0) + 1
        if at:
            calls.setdefault(action + "At", []).append(time.time())
        if keep is not None:
            calls.setdefault(keep[0], []).append(keep[1])
        with open(path + ".calls", "w") as f:
            _json.dump(calls, f)


def _gd_count(action):
    _count_call("VIGIL_MOTO_FINDINGS", action)


def _gd_detector(self):
    detector_id = self.path.split("/")[2]
    if detector_id not in self.guardduty_backend.list_detectors():
        raise JsonRESTError("BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
    return detector_id


def _gd_ms(value):
    # updatedAt in a finding is ISO 8601; criteria are epoch milliseconds.
    t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(t.timestamp() * 1000)


def _gd_matches(finding, criterion):
    for field, cond in (criterion or {}).items():
        if field == "updatedAt":
            t = _gd_ms(finding.get("updatedAt", "1970-01-01T00:00:00Z"))
            gt = cond.get("gt", cond.get("greaterThan"))
            gte = cond.get("gte", cond.get("greaterThanOrEqual"))
            if gt is not None and not t > int(gt):
                return False
            if gte is not None and not t >= int(gte):
                return False
        elif field == "service.archived":
            archived = str(finding.get("service", {}).get("archived", False)).lower()
            if "eq" in cond and archived not in [str(v).lower() for v in cond["eq"]]:
                return False
            if "equals" in cond and archived not in [str(v).lower() for v in cond["equals"]]:
                return False
        elif field == "severity":
            gte = cond.get("gte", cond.get("greaterThanOrEqual"))
            if gte is not None and not float(finding.get("severity", 0)) >= float(gte):
                return False
        else:
            raise JsonRESTError("BadRequestException", f"vigil's moto launcher does not filter on {field}")
    return True


def _list_findings(self):
    _gd_count("ListFindings")
    _gd_detector(self)
    body = _json.loads(self.body or "{}")
    criterion = (body.get("findingCriteria") or {}).get("criterion")
    found = [f for f in _gd_seeded(self) if _gd_matches(f, criterion)]
    found.sort(key=lambda f: (f.get("updatedAt", ""), f["id"]))
    size = int(body.get("maxResults") or 50)
    if not 1 <= size <= 50:
        raise JsonRESTError("BadRequestException", "maxResults must be between 1 and 50")
    start = int(body.get("nextToken") or 0)
    page = found[start : start + size]
    out = {"findingIds": [f["id"] for f in page]}
    if start + size < len(found):
        out["nextToken"] = str(start + size)
    return _json.dumps(out)


def _get_findings(self):
    _gd_count("GetFindings")
    _gd_detector(self)
    ids = _json.loads(self.body or "{}").get("findingIds", [])
    if len(ids) > 50:
        raise JsonRESTError("BadRequestException", "at most 50 findingIds")
    by_id = {f["id"]: f for f in _gd_seeded(self)}
    return _json.dumps({"findings": [by_id[i] for i in ids if i in by_id]})


def _archive_findings(self):
    _gd_count("ArchiveFindings")
    _gd_detector(self)
    ids = _json.loads(self.body or "{}").get("findingIds", [])
    if not 1 <= len(ids) <= 50:
        raise JsonRESTError("BadRequestException", "between 1 and 50 findingIds")
    _gd_archived(self).update(ids)
    return "{}"


for _name in ("list_findings", "get_findings", "archive_findings"):
    assert not hasattr(GuardDutyResponse, _name), f"moto now has {_name}: drop ours"
    setattr(GuardDutyResponse, _name, globals()["_" + _name])
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/findings$"] = GuardDutyResponse.dispatch
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/findings/get$"] = GuardDutyResponse.dispatch
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/findings/archive$"] = GuardDutyResponse.dispatch


# --- Addition: GuardDuty members and IAM policy simulation ----------------------------------------
# GuardDuty (REST-JSON): CreateMembers (POST /detector/{detectorId}/member, accountDetails of
# accountId and email; answers unprocessedAccounts) and ListMembers (GET /detector/{detectorId}/member,
# onlyAssociated, maxResults, nextToken). A member added here is associated at once (relationshipStatus
# Enabled), as AWS does for an organisation's accounts under a delegated administrator. Members live
# on moto's per-region backend, so /moto-api/reset clears them.
# IAM (Query, XML): SimulatePrincipalPolicy (PolicySourceArn of a user or role, ActionNames,
# ResourceArns, default *): each action on each resource is evaluated against the principal's identity policies (inline, attached, and its groups'),
# with moto's own policy evaluator (moto.iam.access_control.IAMPolicy): an explicit Deny gives
# explicitDeny, an Allow allowed, neither implicitDeny; permissions boundaries, SCPs, resource
# policies and conditions are not simulated.
from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, IAMUserAccessKey, PermissionResult  # noqa: E402
from moto.iam.exceptions import InvalidInput as _IamInvalidInput  # noqa: E402
from moto.iam.exceptions import NoSuchEntity as _IamNoSuchEntity  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402


def _gd_members(resp):
    backend = resp.guardduty_backend
    if not hasattr(backend, "_vigil_members"):
        backend._vigil_members = {}
    return backend._vigil_members


def _create_members(self):
    detector = _gd_detector(self)
    body = _json.loads(self.body or "{}")
    members = _gd_members(self).setdefault(detector, {})
    for a in body.get("accountDetails", []):
        members[a["accountId"]] = {
            "accountId": a["accountId"],
            "detectorId": detector,
            "email": a.get("email", ""),
            "masterId": self.current_account,
            "administratorId": self.current_account,
            "relationshipStatus": "Enabled",
            "invitedAt": _now(),
            "updatedAt": _now(),
        }
    return _json.dumps({"unprocessedAccounts": []})


def _list_members(self):
    detector = _gd_detector(self)
    only = (self._get_param("onlyAssociated") or "true").lower() == "true"
    found = list(_gd_members(self).get(detector, {}).values())
    if only:
        found = [m for m in found if m["relationshipStatus"] == "Enabled"]
    size = int(self._get_param("maxResults") or 50)
    start = int(self._get_param("nextToken") or 0)
    out = {"members": found[start : start + size]}
    if start + size < len(found):
        out["nextToken"] = str(start + size)
    return _json.dumps(out)


for _name in ("create_members", "list_members"):
    assert not hasattr(GuardDutyResponse, _name), f"moto now has {_name}: drop ours"
    setattr(GuardDutyResponse, _name, globals()["_" + _name])
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/member$"] = GuardDutyResponse.dispatch


# --- Addition: GuardDuty threat-intel sets and trusted IP lists ----------------------------------
# moto 5.2.5 has none of them. Added in the wire shape of the GuardDuty API Reference (REST-JSON):
# CreateThreatIntelSet and CreateIPSet (POST /detector/{detectorId}/threatintelset | /ipset: name,
# format (TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE), location, activate; answer
# threatIntelSetId | ipSetId), ListThreatIntelSets and ListIPSets (GET the same paths: maxResults
# 1-50 default 50, nextToken; answer threatIntelSetIds | ipSetIds), GetThreatIntelSet and GetIPSet
# (GET .../{id}: name, format, location, status ACTIVE when activated else INACTIVE, tags; an unknown
# id is a BadRequestException). GuardDuty reads the list from its location; so does vigil. Sets live
# on moto's per-region backend, so /moto-api/reset clears them.
_GD_FORMATS = {"TXT", "STIX", "OTX_CSV", "ALIEN_VAULT", "PROOF_POINT", "FIRE_EYE"}


def _gd_sets(resp, kind):
    backend = resp.guardduty_backend
    if not hasattr(backend, "_vigil_sets"):
        backend._vigil_sets = {"threatintelset": {}, "ipset": {}}
    return backend._vigil_sets[kind]


def _gd_create_set(self, kind, id_field):
    detector = _gd_detector(self)
    body = _json.loads(self.body or "{}")
    for field in ("name", "format", "location", "activate"):
        if field not in body:
            raise JsonRESTError("BadRequestException", f"{field} is required")
    if body["format"] not in _GD_FORMATS:
        raise JsonRESTError("BadRequestException", f"format {body['format']} is not one of {sorted(_GD_FORMATS)}")
    sets = _gd_sets(self, kind).setdefault(detector, {})
    set_id = secrets.token_hex(16)
    sets[set_id] = {
        "name": body["name"],
        "format": body["format"],
        "location": body["location"],
        "status": "ACTIVE" if body["activate"] else "INACTIVE",
        "tags": body.get("tags", {}),
    }
    return _json.dumps({id_field: set_id})


def _gd_list_sets(self, kind, ids_field):
    detector = _gd_detector(self)
    ids = sorted(_gd_sets(self, kind).get(detector, {}))
    size = int(self._get_param("maxResults") or 50)
    if not 1 <= size <= 50:
        raise JsonRESTError("BadRequestException", "maxResults must be between 1 and 50")
    start = int(self._get_param("nextToken") or 0)
    out = {ids_field: ids[start : start + size]}
    if start + size < len(ids):
        out["nextToken"] = str(start + size)
    return _json.dumps(out)


def _gd_get_set(self, kind):
    detector = _gd_detector(self)
    set_id = self.path.rstrip("/").split("/")[-1]
    found = _gd_sets(self, kind).get(detector, {}).get(set_id)
    if found is None:
        raise JsonRESTError("BadRequestException", f"The request is rejected because the input {kind} id {set_id} is invalid.")
    return _json.dumps(found)


def _threat_intel_set(self):
    if self.method == "POST":
        return _gd_create_set(self, "threatintelset", "threatIntelSetId")
    return _gd_list_sets(self, "threatintelset", "threatIntelSetIds")


def _ip_set(self):
    if self.method == "POST":
        return _gd_create_set(self, "ipset", "ipSetId")
    return _gd_list_sets(self, "ipset", "ipSetIds")


_GD_SET_ACTIONS = {
    "create_threat_intel_set": _threat_intel_set,
    "list_threat_intel_sets": _threat_intel_set,
    "get_threat_intel_set": lambda self: _gd_get_set(self, "threatintelset"),
    "create_ip_set": _ip_set,
    "list_ip_sets": _ip_set,
    "get_ip_set": lambda self: _gd_get_set(self, "ipset"),
}
for _name, _fn in _GD_SET_ACTIONS.items():
    assert not hasattr(GuardDutyResponse, _name), f"moto now has {_name}: drop ours"
    setattr(GuardDutyResponse, _name, _fn)
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/threatintelset$"] = GuardDutyResponse.dispatch
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/threatintelset/(?P<set_id>[^/]+)$"] = GuardDutyResponse.dispatch
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/ipset$"] = GuardDutyResponse.dispatch
_gd_urls.url_paths["{0}/detector/(?P<detector_id>[^/]+)/ipset/(?P<set_id>[^/]+)$"] = GuardDutyResponse.dispatch


def _simulate_principal_policy(self):
    arn = self._get_param("PolicySourceArn") or ""
    actions = self._get_param("ActionNames") or []
    m = _re.match(r"^arn:(aws[-a-z]*):iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$", arn)
    if not m:
        raise _IamInvalidInput(f"PolicySourceArn {arn} is not a user or role ARN")
    partition, account, kind, name = m.groups()
    holder = object.__new__(IAMUserAccessKey if kind == "user" else AssumedRoleAccessKey)
    holder.account_id, holder.partition = account, partition
    if kind == "user":
        holder._owner_user_name = name
    else:
        holder._owner_role_name = name
    try:
        policies = holder.collect_policies()
    except Exception:
        raise _IamNoSuchEntity(f"The {kind} with name {name} cannot be found.")
    resources = self._get_param("ResourceArns") or ["*"]
    members = []
    for action in actions:
        for resource in resources:
            results = [IAMPolicy(p).is_action_permitted(action, resource) for p in policies]
            if PermissionResult.DENIED in results:
                decision = "explicitDeny"
            elif PermissionResult.PERMITTED in results:
                decision = "allowed"
            else:
                decision = "implicitDeny"
            members.append(
                f"<member><EvalActionName>{action}</EvalActionName><EvalResourceName>{resource}</EvalResourceName>"
                f"<EvalDecision>{decision}</EvalDecision><MatchedStatements/><MissingContextValues/></member>"
            )
    return (
        '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        "<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>"
        + "".join(members)
        + "</EvaluationResults></SimulatePrincipalPolicyResult>"
        f"<ResponseMetadata><RequestId>{secrets.token_hex(16)}</RequestId></ResponseMetadata>"
        "</SimulatePrincipalPolicyResponse>"
    )


assert not hasattr(IamResponse, "simulate_principal_policy"), "moto now has simulate_principal_policy: drop ours"
IamResponse.simulate_principal_policy = _simulate_principal_policy


# --- Addition: CloudTrail LookupEvents --------------------------------------------------------------
# moto 5.2.5 has trails but no LookupEvents. Added in the wire shape of the CloudTrail API Reference
# (JSON 1.1, X-Amz-Target CloudTrail_20131101.LookupEvents): at most one LookupAttributes item
# (InvalidLookupAttributesException otherwise) on EventId, EventName, ReadOnly, Username,
# ResourceType, ResourceName, EventSource or AccessKeyId; StartTime/EndTime (epoch seconds,
# inclusive; EndTime before StartTime is InvalidTimeRangeException); newest first; MaxResults 1-50
# (default 50) and NextToken paging; each event with EventId, EventName, ReadOnly, AccessKeyId,
# EventTime, EventSource, Username, Resources and the record as the CloudTrailEvent string. "The rate
# of lookup requests is limited to two per second, per account, per region. If this limit is
# exceeded, a throttling error occurs": a third call within one second of the call two before it
# answers ThrottlingException. Where the reference leaves CloudTrail's own extraction unsaid, the
# launcher approximates: Username is userIdentity.userName, else the session name of an assumed
# role, else "root" for the root user; ResourceName matches an ARN in the record's resources[] or
# its last segment, or a scalar request parameter named instanceId, bucketName, roleArn, roleName,
# userName or groupId (and the instance ids of instancesSet). The tests seed events (not an AWS
# operation): VIGIL_MOTO_TRAIL names a JSON file {"REGION": [CloudTrail record, ...]}, read at each
# call. Calls are counted in VIGIL_MOTO_TRAIL + ".calls" ({"LookupEvents": n,
# "LookupEventsThrottled": n, "LookupEventsAt": [epoch seconds, ...]}).
from moto.cloudtrail.responses import CloudTrailResponse  # noqa: E402

_ct_lock = threading.Lock()


def _ct_count(throttled):
    if throttled:
        _count_call("VIGIL_MOTO_TRAIL", "LookupEventsThrottled")
    else:
        _count_call("VIGIL_MOTO_TRAIL", "LookupEvents", at=True)


def _ct_seeded(region):
    path = os.environ.get("VIGIL_MOTO_TRAIL")
    if not path:
        return []
    try:
        with open(path) as f:
            return _json.load(f).get(region, [])
    except (OSError, ValueError):
        return []


def _ct_username(rec):
    ui = rec.get("userIdentity") or {}
    if ui.get("userName"):
        return ui["userName"]
    if ui.get("type") == "AssumedRole" and ui.get("arn"):
        return ui["arn"].rsplit("/", 1)[-1]
    if ui.get("type") == "Root":
        return "root"
    return None


def _ct_resources(rec):
    names = []
    for r in rec.get("resources") or []:
        arn = r.get("ARN") or r.get("arn")
        if arn:
            names.append((r.get("type"), arn))
            names.append((r.get("type"), arn.replace(":", "/").rsplit("/", 1)[-1]))
    params = rec.get("requestParameters") or {}
    for key in ("instanceId", "bucketName", "roleArn", "roleName", "userName", "groupId"):
        if isinstance(params.get(key), str):
            names.append((None, params[key]))
    for item in ((params.get("instancesSet") or {}).get("items") or []):
        if isinstance(item, dict) and isinstance(item.get("instanceId"), str):
            names.append(("AWS::EC2::Instance", item["instanceId"]))
    return names


def _ct_epoch(rec):
    t = datetime.datetime.fromisoformat(rec.get("eventTime", "1970-01-01T00:00:00Z").replace("Z", "+00:00"))
    return t.timestamp()


def _ct_matches(rec, attrs):
    for a in attrs:
        key, value = a.get("AttributeKey"), a.get("AttributeValue")
        if key == "EventId":
            ok = rec.get("eventID") == value
        elif key == "EventName":
            ok = rec.get("eventName") == value
        elif key == "EventSource":
            ok = rec.get("eventSource") == value
        elif key == "ReadOnly":
            ok = str(rec.get("readOnly", "")).lower() == str(value).lower()
        elif key == "Username":
            ok = _ct_username(rec) == value
        elif key == "AccessKeyId":
            ok = (rec.get("userIdentity") or {}).get("accessKeyId") == value
        elif key == "ResourceName":
            ok = any(n == value for _, n in _ct_resources(rec))
        elif key == "ResourceType":
            ok = any(t == value for t, _ in _ct_resources(rec))
        else:
            raise JsonRESTError("InvalidLookupAttributesException", f"{key} is not a lookup attribute key")
        if not ok:
            return False
    return True


def _lookup_events(self):
    # The recent calls live on moto's per-account, per-region backend, so /moto-api/reset clears them.
    backend = self.cloudtrail_backend
    with _ct_lock:
        now = time.time()
        times = [t for t in getattr(backend, "_vigil_lookups", []) if now - t < 1.0]
        throttled = len(times) >= 2
        if not throttled:
            times.append(now)
        backend._vigil_lookups = times
        _ct_count(throttled)
    if throttled:
        raise JsonRESTError("ThrottlingException", "Rate exceeded")
    attrs = self._get_param("LookupAttributes") or []
    if len(attrs) > 1:
        raise JsonRESTError("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
    start, end = self._get_param("StartTime"), self._get_param("EndTime")
    if start is not None and end is not None and float(end) < float(start):
        raise JsonRESTError("InvalidTimeRangeException", "EndTime must be after StartTime.")
    size = int(self._get_param("MaxResults") or 50)
    if not 1 <= size <= 50:
        raise JsonRESTError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    found = []
    for rec in _ct_seeded(self.region):
        t = _ct_epoch(rec)
        if start is not None and t < float(start):
            continue
        if end is not None and t > float(end):
            continue
        if _ct_matches(rec, attrs):
            found.append((t, rec))
    found.sort(key=lambda x: (x[0], x[1].get("eventID", "")), reverse=True)
    first = int(self._get_param("NextToken") or 0)
    page = found[first : first + size]
    events = []
    for t, rec in page:
        ev = {
            "EventId": rec.get("eventID"),
            "EventName": rec.get("eventName"),
            "ReadOnly": str(rec.get("readOnly", "false")).lower(),
            "EventTime": t,
            "EventSource": rec.get("eventSource"),
            "Resources": [{"ResourceType": ty, "ResourceName": n} for ty, n in _ct_resources(rec) if ty],
            "CloudTrailEvent": _json.dumps(rec),
        }
        key_id = (rec.get("userIdentity") or {}).get("accessKeyId")
        if key_id:
            ev["AccessKeyId"] = key_id
        user = _ct_username(rec)
        if user:
            ev["Username"] = user
        events.append(ev)
    out = {"Events": events}
    if first + size < len(found):
        out["NextToken"] = str(first + size)
    return _json.dumps(out)


assert not hasattr(CloudTrailResponse, "lookup_events"), "moto now has lookup_events: drop ours"

# --- Addition: CloudTrail Lake queries -------------------------------------------------------------
# moto 5.2.5 has no CloudTrail Lake. Added in the wire shape of the CloudTrail API Reference (JSON 1.1):
# StartQuery (QueryStatement → QueryId), DescribeQuery (QueryStatus QUEUED/RUNNING/FINISHED/FAILED/
# CANCELLED, QueryStatistics with EventsMatched, EventsScanned, BytesScanned, ExecutionTimeInMillis,
# ErrorMessage), GetQueryResults (QueryStatus, QueryStatistics with ResultsCount, TotalResultsCount,
# BytesScanned; QueryResultRows as lists of {column: value} cells; MaxQueryResults 1-1000 and
# NextToken) and CancelQuery (a query that has not ended becomes CANCELLED; InactiveQueryException
# otherwise). The SQL is evaluated for the subset vigil writes — SELECT path AS alias, … FROM
# store WHERE conditions (path = / >= / < / LIKE 'literal', quotes doubled; AND, OR, parentheses)
# ORDER BY eventTime, eventID — over the records a test seeds (not an AWS operation):
# VIGIL_MOTO_LAKE names a JSON file {"STORE_ID": [CloudTrail record, ...]}; a store entry may also
# set "_running_s" (how long its queries run), "_fail" (a failure message its queries end with)
# and "_page" (rows per page). Anything else in the SQL fails StartQuery with
# InvalidQueryStatementException; an unknown store with EventDataStoreNotFoundException. Calls and
# statements are recorded in VIGIL_MOTO_LAKE + ".calls".
import uuid as _uuid  # noqa: E402

_lake_queries = {}
_LAKE_TOKEN = _re.compile(r"'(?:[^']|'')*'|\(|\)|>=|<=|=|<|>|,|\*|[A-Za-z_0-9][\w.-]*")


class _LakeSqlError(Exception):
    pass


def _lake_tokens(sql):
    pos, out = 0, []
    while pos < len(sql):
        if sql[pos].isspace():
            pos += 1
            continue
        m = _LAKE_TOKEN.match(sql, pos)
        if not m:
            raise _LakeSqlError(f"unexpected text at {pos}: {sql[pos:pos + 20]!r}")
        out.append(m.group(0))
        pos = m.end()
    return out


def _lake_path(rec, path):
    v = rec
    for part in path.split("."):
        if not isinstance(v, dict):
            return None
        v = v.get(part)
    if path == "eventTime" and isinstance(v, str):
        v = v.replace("T", " ").rstrip("Z")
    return v


def _lake_parse(sql):
    t = _lake_tokens(sql)
    i = 0

    def take(expected=None):
        nonlocal i
        if i >= len(t):
            raise _LakeSqlError("the statement ends early")
        tok = t[i]
        if expected and tok.upper() != expected:
            raise _LakeSqlError(f"expected {expected}, found {tok}")
        i += 1
        return tok

    take("SELECT")
    cols = []
    while True:
        path = take()
        take("AS")
        cols.append((path, take()))
        if t[i] != ",":
            break
        take(",")
    take("FROM")
    store = take()

    def literal(tok):
        if not (tok.startswith("'") and tok.endswith("'")):
            raise _LakeSqlError(f"expected a quoted value, found {tok}")
        return tok[1:-1].replace("''", "'")

    def term():
        if t[i] == "(":
            take("(")
            e = expr()
            take(")")
            return e
        path = take()
        op = take().upper()
        val = literal(take())
        if op == "=":
            return lambda r: _lake_path(r, path) == val
        if op == ">=":
            return lambda r: (_lake_path(r, path) or "") >= val
        if op == "<":
            return lambda r: (_lake_path(r, path) or "") < val
        if op == "LIKE":
            rx = _re.compile("^" + ".*".join(_re.escape(p) for p in val.split("%")) + "$", _re.S)
            return lambda r: isinstance(_lake_path(r, path), str) and bool(rx.match(_lake_path(r, path)))
        raise _LakeSqlError(f"operator {op} is not supported here")

    def conj():
        e = term()
        while i < len(t) and t[i].upper() == "AND":
            take()
            a, b = e, term()
            e = (lambda a, b: lambda r: a(r) and b(r))(a, b)
        return e

    def expr():
        e = conj()
        while i < len(t) and t[i].upper() == "OR":
            take()
            a, b = e, conj()
            e = (lambda a, b: lambda r: a(r) or b(r))(a, b)
        return e

    take("WHERE")
    cond = expr()
    take("ORDER")
    take("BY")
    order = [take()]
    while i < len(t) and t[i] == ",":
        take(",")
        order.append(take())
    if i != len(t):
        raise _LakeSqlError(f"unexpected {t[i]}")
    return cols, store, cond, order


def _lake_stores():
    path = os.environ.get("VIGIL_MOTO_LAKE")
    if not path:
        return {}
    try:
        with open(path) as f:
            return _json.load(f)
    except (OSError, ValueError):
        return {}


def _lake_record_call(op, sql=None):
    _count_call("VIGIL_MOTO_LAKE", op, keep=None if sql is None else ("statements", sql))


def _lake_status(q):
    if q["status"] in ("QUEUED", "RUNNING") and time.time() - q["started"] >= q["running_s"]:
        q["status"] = "FAILED" if q["fail"] else "FINISHED"
    elif q["status"] == "QUEUED":
        q["status"] = "RUNNING"
    return q


def _start_query(self):
    sql = self._get_param("QueryStatement") or ""
    _lake_record_call("StartQuery", sql)
    try:
        cols, store, cond, order = _lake_parse(sql)
    except _LakeSqlError as e:
        raise JsonRESTError("InvalidQueryStatementException", f"Query statement is invalid: {e}")
    stores = _lake_stores()
    if store not in stores:
        raise JsonRESTError("EventDataStoreNotFoundException", f"The specified event data store {store} was not found.")
    entry = stores[store]
    records = entry if isinstance(entry, list) else entry.get("records", [])
    opts = {} if isinstance(entry, list) else entry
    matched = [r for r in records if cond(r)]
    matched.sort(key=lambda r: tuple(str(_lake_path(r, o) or "") for o in order))
    rows = []
    for r in matched:
        row = []
        for path, alias in cols:
            v = _lake_path(r, path)
            if v is not None:
                row.append({alias: v if isinstance(v, str) else _json.dumps(v)})
        rows.append(row)
    qid = str(_uuid.uuid4())
    _lake_queries[qid] = {
        "status": "QUEUED",
        "started": time.time(),
        "running_s": float(opts.get("_running_s", 0.3)),
        "fail": opts.get("_fail"),
        "page": int(opts.get("_page", 1000)),
        "rows": rows,
        "scanned": len(records),
        "bytes": sum(len(_json.dumps(r)) for r in records),
        "sql": sql,
    }
    return _json.dumps({"QueryId": qid})


def _lake_query(self):
    qid = self._get_param("QueryId")
    q = _lake_queries.get(qid)
    if q is None:
        raise JsonRESTError("QueryIdNotFoundException", f"The query ID {qid} does not exist or does not map to a query.")
    return _lake_status(q)


def _describe_query(self):
    _lake_record_call("DescribeQuery")
    q = _lake_query(self)
    out = {
        "QueryId": self._get_param("QueryId"),
        "QueryString": q["sql"],
        "QueryStatus": q["status"],
        "QueryStatistics": {
            "EventsMatched": len(q["rows"]) if q["status"] == "FINISHED" else 0,
            "EventsScanned": q["scanned"],
            "BytesScanned": q["bytes"],
            "ExecutionTimeInMillis": int((time.time() - q["started"]) * 1000),
        },
    }
    if q["status"] == "FAILED":
        out["ErrorMessage"] = q["fail"]
    return _json.dumps(out)


def _get_query_results(self):
    _lake_record_call("GetQueryResults")
    q = _lake_query(self)
    out = {"QueryStatus": q["status"]}
    if q["status"] != "FINISHED":
        if q["status"] == "FAILED":
            out["ErrorMessage"] = q["fail"]
        return _json.dumps(out)
    size = int(self._get_param("MaxQueryResults") or q["page"])
    if not 1 <= size <= 1000:
        raise JsonRESTError("InvalidMaxResultsException", "MaxQueryResults must be between 1 and 1000.")
    first = int(self._get_param("NextToken") or 0)
    out["QueryResultRows"] = q["rows"][first : first + size]
    out["QueryStatistics"] = {
        "ResultsCount": len(out["QueryResultRows"]),
        "TotalResultsCount": len(q["rows"]),
        "BytesScanned": q["bytes"],
    }
    if first + size < len(q["rows"]):
        out["NextToken"] = str(first + size)
    return _json.dumps(out)


def _cancel_query(self):
    _lake_record_call("CancelQuery")
    q = _lake_query(self)
    if q["status"] not in ("QUEUED", "RUNNING"):
        raise JsonRESTError("InactiveQueryException", "The specified query cannot be canceled because it is in the FINISHED, FAILED, TIMED_OUT, or CANCELLED state.")
    q["status"] = "CANCELLED"
    return _json.dumps({"QueryId": self._get_param("QueryId"), "QueryStatus": "CANCELLED"})


for _name in ("start_query", "describe_query", "get_query_results", "cancel_query"):
    assert not hasattr(CloudTrailResponse, _name), f"moto now has {_name}: drop ours"
    setattr(CloudTrailResponse, _name, globals()["_" + _name])

CloudTrailResponse.lookup_events = _lookup_events


# --- Addition: Amazon Detective --------------------------------------------------------------------
# moto 5.2.5 has no Detective at all. Added as a small WSGI handler in front of moto's dispatcher
# (requests signed for the `detective` service), in the wire shape of the Detective API Reference
# (REST-JSON, timestamps ISO 8601, errors as x-amzn-ErrorType with a message): CreateGraph (POST
# /graph), ListGraphs (POST /graphs/list), StartInvestigation (POST /investigations/
# startInvestigation: the graph must exist, ResourceNotFoundException; the entity must be an IAM user
# or role ARN, ValidationException), GetInvestigation, ListInvestigations (FilterCriteria.EntityArn,
# newest first) and ListIndicators (IndicatorType filter), with MaxResults/NextToken paging. An
# investigation is RUNNING for its first half second, then SUCCESSFUL with the severity and
# indicators the test seeded for its entity: VIGIL_MOTO_DETECTIVE names a JSON file
# {"ARN": {"severity": "HIGH", "indicators": [Indicator, ...]}} in the API's shape (not an AWS
# operation; read when an investigation starts). Calls are counted in VIGIL_MOTO_DETECTIVE + ".calls".
# /moto-api/reset clears graphs and investigations. moto's IAM enforcement does not cover these.
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: E402

_dt_lock = threading.Lock()
_dt = {"graphs": {}, "investigations": {}}


def _dt_iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _dt_count(op):
    _count_call("VIGIL_MOTO_DETECTIVE", op)


def _dt_seed(arn):
    path = os.environ.get("VIGIL_MOTO_DETECTIVE")
    if not path:
        return {}
    try:
        with open(path) as f:
            return _json.load(f).get(arn, {})
    except (OSError, ValueError):
        return {}


class _DtError(Exception):
    def __init__(self, status, code, message):
        self.status, self.code, self.message = status, code, message


def _dt_page(items, body, key):
    size = int(body.get("MaxResults") or 50)
    first = int(body.get("NextToken") or 0)
    out = {key: items[first : first + size]}
    if first + size < len(items):
        out["NextToken"] = str(first + size)
    return out


def _dt_graph(body, region):
    arn = body.get("GraphArn")
    if arn not in _dt["graphs"].get(region, {}):
        raise _DtError(404, "ResourceNotFoundException", f"The graph {arn} does not exist")
    return arn


def _dt_status(inv):
    if inv["Status"] == "RUNNING" and time.time() - inv["_started"] >= 0.5:
        seeded = _dt_seed(inv["EntityArn"])
        inv["Status"] = "SUCCESSFUL"
        inv["Severity"] = seeded.get("severity", "INFORMATIONAL")
        inv["_indicators"] = seeded.get("indicators", [])
    return inv


def _dt_public(inv, keys):
    return {k: inv[k] for k in keys if k in inv}


_DT_SUMMARY = ("InvestigationId", "Severity", "Status", "State", "CreatedTime", "EntityArn", "EntityType")


def _dt_handle(path, body, region):
    if path == "/graph":
        _dt_count("CreateGraph")
        arn = f"arn:aws:detective:{region}:{DEFAULT_ACCOUNT_ID}:graph:{secrets.token_hex(16)}"
        _dt["graphs"].setdefault(region, {})[arn] = {"Arn": arn, "CreatedTime": _dt_iso(time.time())}
        return {"GraphArn": arn}
    if path == "/graphs/list":
        _dt_count("ListGraphs")
        return _dt_page(list(_dt["graphs"].get(region, {}).values()), body, "GraphList")
    if path == "/investigations/startInvestigation":
        _dt_count("StartInvestigation")
        graph = _dt_graph(body, region)
        entity = body.get("EntityArn") or ""
        m = _re.match(r"^arn:aws[-a-z]*:iam::\d{12}:(role|user)/.+$", entity)
        if not m:
            raise _DtError(400, "ValidationException", "EntityArn must be the ARN of an IAM user or role")
        for k in ("ScopeStartTime", "ScopeEndTime"):
            if not body.get(k):
                raise _DtError(400, "ValidationException", f"{k} is required")
        iid = "".join(secrets.choice("0123456789") for _ in range(21))
        now = time.time()
        _dt["investigations"].setdefault(graph, {})[iid] = {
            "GraphArn": graph,
            "InvestigationId": iid,
            "EntityArn": entity,
            "EntityType": "IAM_ROLE" if m.group(1) == "role" else "IAM_USER",
            "CreatedTime": _dt_iso(now),
            "ScopeStartTime": body["ScopeStartTime"],
            "ScopeEndTime": body["ScopeEndTime"],
            "Status": "RUNNING",
            "State": "ACTIVE",
            "_started": now,
        }
        return {"InvestigationId": iid}
    if path == "/investigations/getInvestigation":
        _dt_count("GetInvestigation")
        graph = _dt_graph(body, region)
        inv = _dt["investigations"].get(graph, {}).get(body.get("InvestigationId"))
        if inv is None:
            raise _DtError(404, "ResourceNotFoundException", "The investigation does not exist")
        inv = _dt_status(inv)
        return _dt_public(inv, ("GraphArn", "ScopeStartTime", "ScopeEndTime") + _DT_SUMMARY)
    if path == "/investigations/listInvestigations":
        _dt_count("ListInvestigations")
        graph = _dt_graph(body, region)
        want = (((body.get("FilterCriteria") or {}).get("EntityArn")) or {}).get("Value")
        invs = [_dt_status(i) for i in _dt["investigations"].get(graph, {}).values()]
        invs = [i for i in invs if want is None or i["EntityArn"] == want]
        invs.sort(key=lambda i: i["_started"], reverse=True)
        return _dt_page([_dt_public(i, _DT_SUMMARY) for i in invs], body, "InvestigationDetails")
    if path == "/investigations/listIndicators":
        _dt_count("ListIndicators")
        graph = _dt_graph(body, region)
        inv = _dt["investigations"].get(graph, {}).get(body.get("InvestigationId"))
        if inv is None:
            raise _DtError(404, "ResourceNotFoundException", "The investigation does not exist")
        inds = _dt_status(inv).get("_indicators", [])
        if body.get("IndicatorType"):
            inds = [i for i in inds if i.get("IndicatorType") == body["IndicatorType"]]
        out = _dt_page(inds, body, "Indicators")
        out.update({"GraphArn": graph, "InvestigationId": inv["InvestigationId"]})
        return out
    raise _DtError(404, "ResourceNotFoundException", f"no Detective operation at {path}")


_orig_dispatch_call = DomainDispatcherApplication.__call__


def _dispatch_call(self, environ, start_response):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if environ.get("PATH_INFO") == "/moto-api/reset":
        with _dt_lock:
            _dt["graphs"].clear()
            _dt["investigations"].clear()
    scope = _re.search(r"Credential=[^/]+/\d{8}/([^/]+)/detective/aws4_request", auth)
    if not scope:
        return _orig_dispatch_call(self, environ, start_response)
    region = scope.group(1)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = _json.loads(raw or b"{}")
        with _dt_lock:
            out = _dt_handle(environ.get("PATH_INFO", ""), body, region)
        status, headers, payload = "200 OK", [], _json.dumps(out)
    except _DtError as e:
        reason = {400: "Bad Request", 404: "Not Found"}.get(e.status, "Error")
        status = f"{e.status} {reason}"
        headers = [("x-amzn-ErrorType", e.code)]
        payload = _json.dumps({"message": e.message})
    except ValueError as e:
        status, headers = "400 Bad Request", [("x-amzn-ErrorType", "ValidationException")]
        payload = _json.dumps({"message": str(e)})
    data = payload.encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + headers)
    return [data]


DomainDispatcherApplication.__call__ = _dispatch_call


# --- Fault injection (not a correction): throttling ------------------------------------------------
# To test that throttled calls are retried with backoff, VIGIL_MOTO_FAULTS names a JSON file
# {"Action": n}: the next n calls of that action answer RequestLimitExceeded, the code EC2 gives
# when it throttles ("Request limit exceeded", EC2 API Reference, Common client errors). The tests
# write the file; each throttled answer decrements the count, so a test can see how many there were.
_faults_path = os.environ.get("VIGIL_MOTO_FAULTS")
if _faults_path:
    import json  # noqa: E402

    from moto.core.responses import BaseResponse  # noqa: E402
    from moto.core.utils import camelcase_to_underscores  # noqa: E402
    from moto.ec2.exceptions import EC2ClientError  # noqa: E402

    _faults_lock = threading.Lock()
    _orig_call_action = BaseResponse.call_action

    def _take_fault(action):
        with _faults_lock:
            try:
                with open(_faults_path) as f:
                    faults = json.load(f)
            except (OSError, ValueError):
                return False
            if faults.get(action, 0) <= 0:
                return False
            faults[action] -= 1
            with open(_faults_path, "w") as f:
                json.dump(faults, f)
            return True

    def _call_action(self):
        action = self._get_action()
        if _take_fault(action):

            def _throttled():
                raise EC2ClientError("RequestLimitExceeded", "Request limit exceeded.")

            # An instance attribute shadows the handler for this one request.
            setattr(self, camelcase_to_underscores(action), _throttled)
        return _orig_call_action(self)

    BaseResponse.call_action = _call_action


# --- Addition: SSM DescribeInstanceInformation ---------------------------------------------------
# moto 5.2.5 implements Run Command (SendCommand, GetCommandInvocation: every invocation answers
# Success, no script runs) but not DescribeInstanceInformation, which says which instances have a
# registered agent. Added in the wire shape of the Systems Manager API Reference (JSON 1.1,
# X-Amz-Target AmazonSSM.DescribeInstanceInformation): Filters [{Key: InstanceIds | PingStatus |
# PlatformTypes, Values}] and InstanceInformationFilterList [{key, valueSet}], MaxResults (5-50),
# NextToken; answers InstanceInformationList. No agent registers with moto, so the tests name the
# managed instances (not an AWS operation): VIGIL_MOTO_SSM names a JSON file {"REGION": [instance
# information as the API returns it]}, read at each call.
from moto.ssm.responses import SimpleSystemManagerResponse  # noqa: E402


def _describe_instance_information(self):
    body = _json.loads(self.body or "{}")
    found = []
    path = os.environ.get("VIGIL_MOTO_SSM")
    if path:
        try:
            with open(path) as f:
                found = _json.load(f).get(self.region, [])
        except (OSError, ValueError):
            found = []
    field = {"InstanceIds": "InstanceId", "PingStatus": "PingStatus", "PlatformTypes": "PlatformType"}
    conds = [(f.get("Key"), f.get("Values", [])) for f in body.get("Filters") or []]
    conds += [(f.get("key"), f.get("valueSet", [])) for f in body.get("InstanceInformationFilterList") or []]
    for key, values in conds:
        if key not in field:
            raise JsonRESTError("InvalidInstanceInformationFilterValue", f"vigil's moto launcher does not filter on {key}")
        found = [i for i in found if i.get(field[key]) in values]
    size = int(body.get("MaxResults") or 50)
    start = int(body.get("NextToken") or 0)
    out = {"InstanceInformationList": found[start : start + size]}
    if start + size < len(found):
        out["NextToken"] = str(start + size)
    return _json.dumps(out)


assert not hasattr(SimpleSystemManagerResponse, "describe_instance_information"), "moto now has describe_instance_information: drop ours"
SimpleSystemManagerResponse.describe_instance_information = _describe_instance_information

# --- Patch: Security Hub GetFindings filters and sort ------------------------------------------
# moto 5.2.5's GetFindings ignores Filters and SortCriteria ("not yet implemented") and answers
# every finding. Restored as the Security Hub API Reference defines them (AwsSecurityFindingFilters):
# string filters on the fields below with EQUALS, PREFIX and CONTAINS (several OR'd) and
# NOT_EQUALS, PREFIX_NOT_EQUALS and NOT_CONTAINS (several AND'd; both kinds AND'd together); date
# filters (UpdatedAt, CreatedAt, FirstObservedAt, LastObservedAt) with Start/End (inclusive, ISO
# 8601) or DateRange {Value, Unit: DAYS}; SortCriteria on one field, asc or desc; MaxResults 1-100
# and NextToken (an offset). Any other filter is a 400, so a test never passes on an ignored filter.
from moto.securityhub.responses import SecurityHubResponse  # noqa: E402

_SH_STRING_FIELDS = {
    "RecordState": lambda f: f.get("RecordState"),
    "ProductName": lambda f: f.get("ProductName"),
    "CompanyName": lambda f: f.get("CompanyName"),
    "AwsAccountId": lambda f: f.get("AwsAccountId"),
    "Id": lambda f: f.get("Id"),
    "ProductArn": lambda f: f.get("ProductArn"),
    "SeverityLabel": lambda f: (f.get("Severity") or {}).get("Label"),
    "WorkflowStatus": lambda f: (f.get("Workflow") or {}).get("Status"),
    "Type": lambda f: (f.get("Types") or [None])[0],
}
_SH_DATE_FIELDS = ("UpdatedAt", "CreatedAt", "FirstObservedAt", "LastObservedAt")


def _sh_time(value):
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sh_string_match(value, flt):
    want, cmp = flt.get("Value", ""), flt.get("Comparison", "EQUALS")
    value = value or ""
    return {
        "EQUALS": value == want,
        "PREFIX": value.startswith(want),
        "CONTAINS": want in value,
        "NOT_EQUALS": value != want,
        "PREFIX_NOT_EQUALS": not value.startswith(want),
        "NOT_CONTAINS": want not in value,
    }[cmp]


def _sh_matches(finding, filters):
    for name, flts in (filters or {}).items():
        if name in _SH_STRING_FIELDS:
            value = _SH_STRING_FIELDS[name](finding)
            positive = [f for f in flts if not f.get("Comparison", "EQUALS").startswith(("NOT_", "PREFIX_NOT"))]
            negative = [f for f in flts if f not in positive]
            if positive and not any(_sh_string_match(value, f) for f in positive):
                return False
            if not all(_sh_string_match(value, f) for f in negative):
                return False
        elif name in _SH_DATE_FIELDS:
            if finding.get(name) is None:
                return False
            t = _sh_time(finding[name])
            for f in flts:
                if "Start" in f and t < _sh_time(f["Start"]):
                    return False
                if "End" in f and t > _sh_time(f["End"]):
                    return False
                if "DateRange" in f:
                    days = int(f["DateRange"]["Value"])
                    if t < datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days):
                        return False
        else:
            raise JsonRESTError("InvalidInputException", f"vigil's moto launcher does not filter on {name}")
    return True


def _sh_get_findings(self):
    _count_call("VIGIL_MOTO_SECURITYHUB", "GetFindings")
    body = _json.loads(self.body or "{}")
    found = [f.as_dict() for f in self.securityhub_backend.findings]
    found = [f for f in found if _sh_matches(f, body.get("Filters"))]
    for crit in reversed(body.get("SortCriteria") or []):
        field = crit.get("Field", "UpdatedAt")
        found.sort(key=lambda f: str(f.get(field, "")), reverse=crit.get("SortOrder", "asc").lower().startswith("desc"))
    size = int(body.get("MaxResults") or 100)
    if not 1 <= size <= 100:
        raise JsonRESTError("InvalidInputException", "MaxResults must be a number between 1 and 100")
    start = int(body.get("NextToken") or 0)
    out = {"Findings": found[start : start + size]}
    if start + size < len(found):
        out["NextToken"] = str(start + size)
    return _json.dumps(out)


assert "Filters and SortCriteria is not yet implemented" in (
    __import__("moto.securityhub.models", fromlist=["x"]).SecurityHubBackend.get_findings.__doc__ or ""
), "moto's Security Hub GetFindings changed: check the patch"
SecurityHubResponse.get_findings = _sh_get_findings


# --- S3 PutObject checks the SHA-256 it is given ---------------------------------------------------
# AWS: PutObject, x-amz-checksum-sha256: "This header specifies the Base64 encoded, 256-bit SHA256
# digest of the object" and "Amazon S3 ... will fail the request with a 400 error if there is a
# mismatch" (BadDigest: "The SHA256 you specified did not match the calculated checksum"; S3 API
# Reference, PutObject and Checking object integrity). moto 5.2.5 stores the given value unchecked
# (S3Response._get_checksum: "TODO: AWS computes the provided value and verifies it's the same").
import base64 as _b64  # noqa: E402
import hashlib as _hashlib  # noqa: E402

from moto.s3.exceptions import S3ClientError  # noqa: E402
from moto.s3.responses import S3Response  # noqa: E402

assert "TODO: AWS computes the provided value" in __import__("inspect").getsource(
    S3Response._get_checksum
), "moto now verifies S3 checksums: drop this patch"
_orig_put_object = S3Response.put_object


def _checked_put_object(self):
    given = self.headers.get("x-amz-checksum-sha256")
    if given:
        actual = _b64.b64encode(_hashlib.sha256(self.body or b"").digest()).decode()
        if actual != given:
            raise S3ClientError(
                "BadDigest", "The SHA256 you specified did not match the calculated checksum."
            )
    return _orig_put_object(self)


S3Response.put_object = _checked_put_object


# --- Never outlive the test process --------------------------------------------------------------
# The state files the harness made for this server (and the call logs beside them) are removed
# here: the harness keeps its server in a static, whose destructor never runs.
_STATE_FILES = (
    "VIGIL_MOTO_FAULTS",
    "VIGIL_MOTO_FINDINGS",
    "VIGIL_MOTO_TRAIL",
    "VIGIL_MOTO_DETECTIVE",
    "VIGIL_MOTO_LAKE",
    "VIGIL_MOTO_SSM",
    "VIGIL_MOTO_SECURITYHUB",
)


def _remove_state_files():
    for var in _STATE_FILES:
        path = os.environ.get(var)
        for p in (path, path and path + ".calls"):
            if p:
                try:
                    os.remove(p)
                except OSError:
                    pass


def _watch_parent(ppid):
    while True:
        if os.getppid() != ppid:
            _remove_state_files()
            os._exit(0)
        time.sleep(0.5)


threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

from moto.server import main  # noqa: E402

port = sys.argv[1] if len(sys.argv) > 1 else "0"
main(["-H", "127.0.0.1", "-p", port])

