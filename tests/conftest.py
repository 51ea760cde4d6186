import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=int(os.environ.get("CHAINGRAD_EXAMPLES", "30")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow], derandomize=True, print_blob=True)
settings.load_profile("ci")
