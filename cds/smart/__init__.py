"""SMART Backend Services on the FHIR side: client registry, token endpoint, access tokens,
scope checks per route, and the discovery documents."""
