"""What every asset of a delivery shares: the decorator arguments said once, the run's delivery and folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from pipelines import settings
from pipelines.deliveries import DELIVERY_PARTITIONS, Delivery, DeliveryError
from pipelines.resources import RunOptions

#: Dagster owners must be an e-mail address or `team:name`.
OWNERS = ["team:evaluatie"]


def delivery_asset(**kwargs: Any):
    """`dg.asset` for one delivery: partitioned by delivery, owned by the evaluation team."""
    return dg.asset(partitions_def=DELIVERY_PARTITIONS, owners=OWNERS, **kwargs)


def delivery_multi_asset(**kwargs: Any):
    """`dg.multi_asset` for one delivery (its specs carry `OWNERS` themselves)."""
    return dg.multi_asset(partitions_def=DELIVERY_PARTITIONS, **kwargs)


def delivery_of(context: dg.AssetExecutionContext) -> Delivery:
    """The run's delivery. A partition key that is none (typed into the UI's "Add partition") fails the run
    with one line, and its partition is removed: it could never be evaluated, so it must not stay behind."""
    try:
        return Delivery.parse(context.partition_key)
    except DeliveryError as exc:
        context.instance.delete_dynamic_partition(DELIVERY_PARTITIONS.name, context.partition_key)
        raise dg.Failure(
            description=f"{exc}, or with the job register_delivery. The partition was removed.",
            allow_retries=False,
        ) from None


def out_dir(delivery: Delivery, options: RunOptions) -> Path:
    return Path(options.out_dir) if options.out_dir else settings.outputs_dir() / delivery.key
