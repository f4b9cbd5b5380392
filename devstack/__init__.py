"""The local stack: the emulator, runway's functions as functions-framework servers, and the bootstrap that
creates what `infra/` creates in production (Eventarc triggers, the shared load balancer).

Used by `make demo`, `python main.py up` and the end-to-end tests. Production code never imports it.
"""
