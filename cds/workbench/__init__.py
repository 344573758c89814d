"""The policy workbench: server-rendered pages to see, try and audit the service's decisions.

``routes`` (mounted at /workbench by ``cds.app``), ``cases`` (a case through a hook service's
own path), ``hook_choice`` (the case as order-sign, order-select or order-dispatch), ``try_view``, ``cards_view`` and ``markdown`` (cards as an EHR shows them),
``trace`` (the decision trace), ``policy_view`` (the CQL library and value sets), ``form`` (the
DLI questionnaire, prepopulated by DTR's prepopulation), ``activity`` and ``svg`` (the audit log's charts), ``html`` (page frame,
escaping). Assets in ``static/`` ship as package data.
"""

from cds.workbench.routes import workbench_routes

__all__ = ["workbench_routes"]
