import typing

from flytekit import map_task, task, workflow


@task
def cube(n: int) -> int:
    if n < 0:
        raise ValueError(f"negative {n}")
    return n * n * n


@workflow
def cubes_wf(xs: typing.List[int] = [1, 2, 3]) -> typing.List[int]:
    return map_task(cube, concurrency=2)(n=xs)


@workflow
def tolerant_cubes_wf(xs: typing.List[int] = [1, -2, 3, 4]) -> typing.List[typing.Optional[int]]:
    return map_task(cube, min_success_ratio=0.5)(n=xs)
