"""How an emulator is configured when it starts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Settings:
    default_project: str = "runway-demo"
    default_region: str = "us-central1"
    # Eventarc retries a failed push with exponential backoff (production: 10 s to 600 s for 24 h,
    # docs/google-apis.md §2.3); the emulator keeps the shape but compresses the clock so tests stay fast.
    delivery_initial_backoff: float = 0.2
    delivery_max_backoff: float = 5.0
    delivery_max_attempts: int = 12
    delivery_timeout: float = 30.0
