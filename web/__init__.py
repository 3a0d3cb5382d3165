"""Litestar only: app factory, controllers, schemas, templates and the one error mapping."""
