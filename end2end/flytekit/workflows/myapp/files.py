"""A task that writes a file output, so a test can see where large outputs go."""

import os

import flytekit
from flytekit import task, workflow
from flytekit.types.file import FlyteFile


@task
def write_report(text: str) -> FlyteFile:
    path = os.path.join(flytekit.current_context().working_directory, "report.txt")
    with open(path, "w") as report:
        report.write(text)
    return FlyteFile(path)


@workflow
def report_wf(text: str = "hello") -> FlyteFile:
    return write_report(text=text)
