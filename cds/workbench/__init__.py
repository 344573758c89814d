"""The policy workbench: server-rendered pages to see, try and audit the service's decisions.

``routes`` (mounted at /workbench by ``cds.app``), ``cases`` (a case through the order-sign
service's own path), ``try_view``, ``cards_view`` and ``markdown`` (cards as an EHR shows them),
``trace`` (the decision trace), ``policy_view`` (the CQL library and value sets), ``form`` (the
DLI questionnaire), ``activity`` and ``svg`` (the audit log's charts), ``html`` (page frame,
escaping). Assets in ``static/`` ship as package data.
"""

from cds.workbench.routes import workbench_routes

__all__ = ["workbench_routes"]
