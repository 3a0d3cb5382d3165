"""The contest domain and its storage: models, services, settings, units, jobs and the CLI."""
