"""The Azure adapter and the generated `function_app.py`, driven with real `azure.functions` objects.

The Functions host completes a message when the function returns and abandons it when the
function raises; an abandon raises the delivery count, and Service Bus dead-letters the message
once the count passes maxDeliveryCount. `ServiceBusQueue` below plays that part.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile

import pytest

from cloudqueue_runtime import azure as adapter
from components import artifact
from components.azure import generated_files
from components.spec import validate
from emulators import ServiceBusQueue, service_bus_message


@pytest.fixture
def function_app(tmp_path, recording_handler):
    """The generated Azure package for a consumer, extracted, with its `function_app.py` imported."""

    def load(fifo: bool = False):
        code = tmp_path / "consumer"
        code.mkdir(exist_ok=True)
        (code / "orders_handler.py").write_text(recording_handler)
        spec = validate("orders", {"clouds": ["azure"], "fifo": fifo, "consumer": {"code_path": str(code), "handler": "orders_handler.handle"}})
        package = artifact.build(code, out_dir=tmp_path / "out", generated=generated_files(spec))
        site = tmp_path / "site"
        zipfile.ZipFile(package.path).extractall(site)
        module_spec = importlib.util.spec_from_file_location("generated_function_app", site / "function_app.py")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        (function,) = module.app.get_functions()
        return function, site

    yield load
    sys.modules.pop("generated_function_app", None)


def test_returning_completes_the_message(recording_handler):
    assert adapter.process(service_bus_message(b'{"n": 1}')) is None
    import orders_handler

    assert [m.json() for m in orders_handler.seen] == [{"n": 1}]


def test_raising_propagates_so_the_host_abandons_the_message(recording_handler):
    with pytest.raises(RuntimeError, match="cannot process order 7"):
        adapter.process(service_bus_message(b'{"n": 7, "fail": true}'))


def test_malformed_body_raises_so_it_is_retried_then_dead_lettered(recording_handler):
    queue = ServiceBusQueue(max_delivery_count=5)
    message_id = queue.send(b"not json {")
    queue.drain(adapter.process)
    assert queue.completed == []
    assert queue.dead_letter == [(message_id, b"not json {", 5)]  # body intact, after exactly 5 deliveries


def test_delivery_count_properties_and_id_reach_the_message(recording_handler):
    adapter.process(service_bus_message(b'{"n": 2}', delivery_count=3, properties={"source": "api", "priority": 5}, message_id="m-42"))
    import orders_handler

    (message,) = orders_handler.seen
    assert (message.id, message.delivery_attempt, message.cloud) == ("m-42", 3, "azure")
    assert message.attributes == {"source": "api", "priority": "5"}
    assert message.body == b'{"n": 2}' and message.text == '{"n": 2}'


def test_generated_trigger_binds_the_queue_setting_with_one_message_per_call(function_app):
    function, site = function_app()
    trigger = function.get_trigger().get_dict_repr()
    assert trigger["type"] == "serviceBusTrigger"
    assert trigger["queueName"] == "%CLOUDQUEUE_QUEUE_NAME%"
    assert trigger["connection"] == "ServiceBusConnection"
    assert trigger["isSessionsEnabled"] is False
    assert str(trigger["cardinality"].value) == "one"
    host = json.loads((site / "host.json").read_text())
    assert host["extensions"]["serviceBus"]["maxConcurrentCalls"] == 10
    assert "azure-functions" in (site / "requirements.txt").read_text()


def test_generated_trigger_is_session_enabled_for_fifo(function_app):
    function, site = function_app(fifo=True)
    assert function.get_trigger().get_dict_repr()["isSessionsEnabled"] is True
    service_bus = json.loads((site / "host.json").read_text())["extensions"]["serviceBus"]
    assert service_bus["maxConcurrentSessions"] == 10 and "maxConcurrentCalls" not in service_bus


def test_generated_function_dead_letters_only_the_failing_messages(function_app):
    function, _ = function_app()
    queue = ServiceBusQueue(max_delivery_count=5)
    healthy = [queue.send(json.dumps({"n": n}).encode()) for n in range(8)]
    poison = queue.send(b'{"n": 99, "fail": true}')
    queue.drain(function.get_user_function())
    assert sorted(queue.completed) == sorted(healthy)
    assert [(m, count) for m, _, count in queue.dead_letter] == [(poison, 5)]
