"""CQL → ELM JSON (the ``library`` object of the ELM schema, annotation-free), with static
types resolved on the way (see :mod:`cds.cql.types`)."""
