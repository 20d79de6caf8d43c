"""Which of an item's channels publish at once and which wait for the website's address,
and so which mapped task of the item's DAG run publishes a channel. Plain data from the
config, shared by the DAG (``warta.airflow.dag_factory``), the pipeline and "Coba lagi".
"""

from __future__ import annotations


def links_to(channel, item_channels: list[str]) -> str | None:
    """The channel whose address ``channel``'s posts carry (``link_from``, default the
    website), when the item is published there too; else None."""
    if channel.kind == "wordpress":
        return None
    link_from = channel.options.link_from
    return link_from if link_from and link_from in item_channels else None


def publish_task_of(config, item_channels: list[str], channel_id: str) -> tuple[str, int]:
    """(task id, map index) of the mapped task that publishes ``channel_id`` in the item's
    DAG run: the channels publishing at once are mapped over ``updating`` in the item's
    channel order, the linking ones over ``updating_bertautan`` (the DAG's ``kanal`` and
    ``kanal_bertautan`` tasks list them with ``channels_at_once`` and ``linking_channels``)."""
    task_id = config.step_of_kind("publish").task_id
    at_once = channels_at_once(config, item_channels)
    if channel_id in at_once:
        return task_id, at_once.index(channel_id)
    linking = linking_channels(config, item_channels)
    if channel_id in linking:
        return f"{task_id}_bertautan", linking.index(channel_id)
    raise KeyError(f"{channel_id!r} is not a channel of this item")


def channels_at_once(config, item_channels: list[str]) -> list[str]:
    """The item's channels that publish at once (not linking to another channel's post)."""
    configured = config.channels
    return [c for c in item_channels if c not in configured or not links_to(configured[c], item_channels)]


def linking_channels(config, item_channels: list[str]) -> list[str]:
    """The item's channels whose posts carry another channel's (the website's) address."""
    configured = config.channels
    return [c for c in item_channels if c in configured and links_to(configured[c], item_channels)]
