"""A local Google Cloud control plane: Cloud Run Admin v1/v2, Compute v1, Logging v2 and Eventarc v1, with the
Resource Manager hierarchy and IAM (policies, roles, permission checks) around them.

Production code never imports this package; tests and the demo do.
"""

from .server import EmulatorServer
from .settings import Settings, UrlMapLimits
from .state import Emulator

__all__ = ["Emulator", "EmulatorServer", "Settings", "UrlMapLimits"]
