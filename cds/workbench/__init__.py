"""The policy workbench: server-rendered pages to see, try and audit the service's decisions."""

from cds.workbench.routes import workbench_routes

__all__ = ["workbench_routes"]
