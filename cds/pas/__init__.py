"""Da Vinci PAS (Prior Authorization Support, 2.x): ``Claim/$submit`` and ``Claim/$inquire``.

A thin door over the one decision core (``cds.decision_core``): the request Bundle is read into
the core's terms, the core decides each requested service, and the Decision is rendered in PAS
terms. Modules, named after PAS concepts:

- ``request_bundle``: a PAS Bundle's entries and the FHIR reference resolution inside it;
- ``claim``: the PAS Claim (request and inquiry) read and validated into a :class:`PasClaim`;
- ``review_action``: our outcomes as X12 306 review actions (A1 / A3 / A4 / NA);
- ``claim_response``: the PAS response Bundle with its ClaimResponse (and what a pended item needs);
- ``inquiry``: ``$inquire``, query by example over the stored submissions;
- ``store``: every submission and its response, committed before the answer;
- ``service``: ``$submit`` and ``$inquire`` end to end (no HTTP: errors are ``cds.errors``);
- ``cli``: ``dli-cds pas submit BUNDLE.json`` through the same service.
"""
