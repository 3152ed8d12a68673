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


# --- Never outlive the test process --------------------------------------------------------------
def _watch_parent(ppid):
    while True:
        if os.getppid() != ppid:
            os._exit(0)
        time.sleep(0.5)


threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

from moto.server import main  # noqa: E402

port = sys.argv[1] if len(sys.argv) > 1 else "0"
main(["-H", "127.0.0.1", "-p", port])
