"""Operations: actor heartbeats, the dead-letter table, the admin message audit.

The contract: boot builds the system with a `DeadLetterTable` as its dead-letter sink and starts
`OpsModule`, which records heartbeats; the messages below are what the ops actors answer. The
tables and the heartbeat recorder are private to the package.
"""

from clash.ops.dead_letters import DeadLetterTable
from clash.ops.messages import OpsPing, OpsPong, RecordHeartbeats, WorkerStats
from clash.ops.module import OpsModule

__all__ = [
    "DeadLetterTable",
    "OpsModule",
    "OpsPing",
    "OpsPong",
    "RecordHeartbeats",
    "WorkerStats",
]
