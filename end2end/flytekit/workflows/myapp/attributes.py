"""Attribute access on task outputs, which propeller resolves between tasks:
fields of a dataclass (scalars, a nested dataclass, a list and an item of it),
fields of a Pydantic model, a dict of dataclasses by key, lists by index."""

from dataclasses import dataclass
from typing import Dict, List

from flytekit import task, workflow
from pydantic import BaseModel


@dataclass
class Farm:
    name: str
    rows: List[int]


@dataclass
class Fruit:
    name: str
    size: int
    weight: float
    ripe: bool
    origin: Farm
    tags: List[str]


class Label(BaseModel):
    text: str
    stars: int


class Basket(BaseModel):
    owner: str
    count: int
    price: float
    label: Label
    sizes: List[int]


def grown(name: str, size: int) -> Fruit:
    return Fruit(
        name=name, size=size, weight=size / 4, ripe=size > 2, origin=Farm(name="hill", rows=[4, 5]), tags=["red", name]
    )


@task
def pick(name: str) -> Fruit:
    return grown(name, 3)


@task
def harvest(names: List[str]) -> Dict[str, Fruit]:
    return {"best": grown(names[0], 9), "worst": grown(names[-1], 1)}


@task
def row_up(names: List[str]) -> List[Fruit]:
    return [grown(name, index + 1) for index, name in enumerate(names)]


@task
def measure(names: List[str]) -> List[int]:
    return [len(name) for name in names]


@task
def pack(owner: str) -> Basket:
    return Basket(owner=owner, count=2, price=1.5, label=Label(text="fresh", stars=4), sizes=[7, 8])


@task
def describe(name: str, size: int, weight: float, ripe: bool, tag: str) -> str:
    # The reprs show the types that arrived, not only the values.
    return f"{name} size={size!r} weight={weight!r} ripe={ripe!r} tag={tag}"


@task
def describe_farm(farm: Farm, rows: List[int], row: int) -> str:
    return f"{farm.name} rows={farm.rows} listed={rows} second={row!r}"


@task
def describe_basket(owner: str, count: int, price: float, label: Label, text: str, size: int) -> str:
    return f"{owner} count={count!r} price={price!r} label={label.text}/{label.stars} text={text} size={size!r}"


@task
def double(n: int) -> int:
    return n * 2


@workflow
def fruit_wf(name: str = "apple") -> str:
    fruit = pick(name=name)
    return describe(name=fruit.name, size=fruit.size, weight=fruit.weight, ripe=fruit.ripe, tag=fruit.tags[1])


@workflow
def farm_wf(name: str = "apple") -> str:
    fruit = pick(name=name)
    return describe_farm(farm=fruit.origin, rows=fruit.origin.rows, row=fruit.origin.rows[1])


@workflow
def basket_wf(owner: str = "ann") -> str:
    basket = pack(owner=owner)
    return describe_basket(
        owner=basket.owner,
        count=basket.count,
        price=basket.price,
        label=basket.label,
        text=basket.label.text,
        size=basket.sizes[1],
    )


@workflow
def best_wf(names: List[str] = ["fig", "plum"]) -> str:
    fruits = harvest(names=names)
    best = fruits["best"]
    return describe(name=best.name, size=best.size, weight=best.weight, ripe=best.ripe, tag=fruits["worst"].tags[1])


@workflow
def indexed_wf(names: List[str] = ["fig", "kiwi"]) -> str:
    lengths = measure(names=names)
    fruits = row_up(names=names)
    doubled = double(n=lengths[1])
    return describe(name=fruits[1].name, size=doubled, weight=fruits[0].weight, ripe=fruits[1].ripe, tag="listed")


@workflow
def output_field_wf(name: str = "apple") -> int:
    # The workflow's own output is a field: resolved by the same rule.
    return pick(name=name).origin.rows[0]


@workflow
def missing_key_wf(names: List[str] = ["fig", "plum"]) -> str:
    fruits = harvest(names=names)
    best = fruits["nope"]
    return describe(name=best.name, size=best.size, weight=best.weight, ripe=best.ripe, tag="never")
