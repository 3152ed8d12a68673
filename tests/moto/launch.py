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
