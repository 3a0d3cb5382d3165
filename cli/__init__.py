"""The composition root: the ``contest`` command wires the services, web and ingest together."""
