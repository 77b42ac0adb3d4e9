"""A task whose inputs cover the literal types the console's launch form must
take: enum, list, map, unions (one whose types only the form's type choice
tells apart), optional, blob, dataframe, datetime, duration
and nested dataclasses. It echoes what it received, so a test can read back what the
form sent."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Dict, List, Optional, Union

from flytekit import task, workflow
from flytekit.types.file import FlyteFile
from flytekit.types.structured import StructuredDataset


class Color(Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@dataclass
class Limits:
    cpu: int
    memory: str = "1Gi"


@dataclass
class Settings:
    title: str
    retries: int
    ratio: float
    verbose: bool
    limits: Limits
    workers: int = 2
    tags: List[str] = field(default_factory=list)
    note: Optional[str] = None


@task
def describe(
    color: Color,
    sizes: List[int],
    weights: Dict[str, float],
    key: Union[int, str],
    report: FlyteFile,
    table: StructuredDataset,
    start: datetime,
    wait: timedelta,
    settings: Settings,
    comment: Optional[str] = None,
    stamp: Optional[Union[datetime, str]] = None,
) -> str:
    # The file and the table are named, never read: their URIs are what the
    # form sent.
    return (
        f"color={color.value} sizes={sum(sizes)} weights={sorted(weights.items())} "
        f"key={key!r} report={report.remote_source} table={table.literal.uri} "
        f"start={start.isoformat()} "
        f"wait={int(wait.total_seconds())}s comment={comment} stamp={stamp!r} "
        f"settings={settings.title}/{settings.retries}/{settings.ratio}/{settings.verbose}/"
        f"{settings.limits.cpu}/{settings.limits.memory}/{settings.workers}/{','.join(settings.tags)}/{settings.note}"
    )


@workflow
def typed_wf(
    color: Color,
    sizes: List[int],
    weights: Dict[str, float],
    key: Union[int, str],
    report: FlyteFile,
    table: StructuredDataset,
    start: datetime,
    wait: timedelta,
    settings: Settings,
    comment: Optional[str] = None,
    stamp: Optional[Union[datetime, str]] = None,
) -> str:
    return describe(
        color=color,
        sizes=sizes,
        weights=weights,
        key=key,
        report=report,
        table=table,
        start=start,
        wait=wait,
        settings=settings,
        comment=comment,
        stamp=stamp,
    )
