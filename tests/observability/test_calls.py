import asyncio
import contextvars

from backend.client import BackendCall
from observability.calls import open_call_log, record_call


def _call(path: str) -> BackendCall:
    return BackendCall("GET", path, 200, 1.0, 1, None, "req")


async def test_each_request_collects_its_own_calls_including_its_tasks() -> None:
    async def request(paths: list[str]) -> list[BackendCall]:
        calls = open_call_log()

        async def batch(path: str) -> None:  # like a DataLoader's dispatch task
            record_call(_call(path))

        await asyncio.gather(*(asyncio.create_task(batch(p)) for p in paths))
        return calls

    one, two = await asyncio.gather(request(["/a/", "/b/"]), request(["/c/"]))
    assert [c.path_template for c in one] == ["/a/", "/b/"]
    assert [c.path_template for c in two] == ["/c/"]


def test_calls_outside_a_request_are_dropped() -> None:
    context = contextvars.Context()
    context.run(record_call, _call("/a/"))  # no log open: dropped, no error
    assert context.run(open_call_log) == []
