"""Bytes in, normalized readings out: CSV and payload parsers (pure), MQTT adapter, writer."""
