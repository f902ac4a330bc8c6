"""Training on several processes (``torchrun``): who does what, and how the processes meet.

``torchrun --nproc_per_node=N -m framewatch train ...`` starts N copies of
``framewatch train``; each reads ``RANK``/``WORLD_SIZE`` from its environment.
:func:`start` joins them into one process group (NCCL on GPUs, gloo on CPUs)
before the Trainer is built, so the Trainer finds it and runs DDP through it.
Work that must happen once (removing a stale work directory, tuning
thresholds, evaluating, writing the checkpoint and its model card) is done by
rank 0 alone: :func:`is_main` says which process that is. A single process
(no ``torchrun``) is a world of one, and every function here is then a no-op.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

import torch
import torch.distributed as dist

from framewatch.errors import ConfigError

__all__ = [
    "all_sum",
    "barrier",
    "claim_freed_cores",
    "is_main",
    "per_process",
    "rank",
    "shard",
    "start",
    "stop",
    "world_size",
]

T = TypeVar("T")


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    """The process that does what must be done once."""
    return rank() == 0


def start() -> None:
    """Join the process group when launched by torchrun; the Trainer then reuses it rather than making its own."""
    if world_size() <= 1 or dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")


def claim_freed_cores() -> None:
    """After the other processes of this node have left, rank 0 works alone: on CPUs it takes their threads too.

    torchrun gives each process an equal share of the cores (OMP_NUM_THREADS);
    without this, tuning and evaluation would run on one share of an idle node.
    """
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if local_processes > 1 and not torch.cuda.is_available():
        torch.set_num_threads(torch.get_num_threads() * local_processes)


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every process gets here (e.g. until rank 0 has cleaned what the others are about to read)."""
    if dist.is_initialized() and world_size() > 1:
        dist.barrier()


def shard(items: Sequence[T]) -> Sequence[T]:
    """This process's share of ``items``: every ``world_size``-th one, starting at its rank."""
    return items[rank() :: world_size()]


def per_process(batch_size: int) -> int:
    """Each process's share of a batch: ``training.batch_size`` is the batch of one optimiser step, however
    many processes take part, so a run on N processes follows the same schedule as a run on one."""
    if batch_size % world_size():
        raise ConfigError(
            f"training.batch_size ({batch_size}) must divide evenly over the {world_size()} training processes"
        )
    return batch_size // world_size()


def all_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of ``tensor`` over all processes, in place (each fills its own rows, zeros elsewhere)."""
    if dist.is_initialized() and world_size() > 1:
        device = torch.device("cuda") if dist.get_backend() == "nccl" else torch.device("cpu")
        moved = tensor.to(device)
        dist.all_reduce(moved, op=dist.ReduceOp.SUM)
        tensor.copy_(moved.cpu())
    return tensor
