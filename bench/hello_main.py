"""The baseline for `bench.cold_start`: a CloudEvent function that does nothing, served the same way as runway.

A CloudEvent hello (rather than an HTTP one) so both targets go through the same functions-framework path:
the binary CloudEvent is parsed by the `cloudevents` SDK before either function runs. The ratio then isolates
what runway itself costs (its imports, its client, its API calls), not the framework's event decoding.
"""

from __future__ import annotations

from typing import Any

import functions_framework


@functions_framework.cloud_event
def hello(cloud_event: Any) -> None:
    print('{"bench": "hello"}', flush=True)
