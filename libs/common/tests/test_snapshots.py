from gateway_common.names import SNAPSHOT_SCHEMA_VERSION
from gateway_common.nats import NatsConnection
from gateway_common.snapshots import SnapshotFollower
from gateway_proto.v1.config_pb2 import ConfigSnapshot, Model


def _follower(applied: list[int]) -> SnapshotFollower:
    return SnapshotFollower(NatsConnection("nats://127.0.0.1:1", "t"), lambda s: applied.append(s.revision))


def _snap(revision: int, schema: int = SNAPSHOT_SCHEMA_VERSION) -> bytes:
    return ConfigSnapshot(
        revision=revision, schema_version=schema, models=[Model(name="m")]
    ).SerializeToString()


def test_applies_newer_and_refuses_older_revisions() -> None:
    applied: list[int] = []
    follower = _follower(applied)
    assert follower.offer(_snap(2))
    assert not follower.offer(_snap(1))
    assert not follower.offer(_snap(2))
    assert follower.offer(_snap(3))
    assert applied == [2, 3]


def test_unknown_schema_version_keeps_the_current_snapshot() -> None:
    applied: list[int] = []
    follower = _follower(applied)
    follower.offer(_snap(1))
    assert not follower.offer(_snap(5, schema=SNAPSHOT_SCHEMA_VERSION + 1))
    assert follower.current is not None
    assert follower.current.revision == 1
    assert follower.refused_revisions == [5]


def test_garbage_is_refused() -> None:
    follower = _follower([])
    assert not follower.offer(b"\xff\xff\xff not a snapshot")
    assert follower.current is None
