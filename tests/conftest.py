"""Test-wide settings: hypothesis runs derandomized so CI is reproducible."""

from hypothesis import HealthCheck, settings

settings.register_profile("ember", derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("ember")
