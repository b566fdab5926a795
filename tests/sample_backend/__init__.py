"""Tests of the sample backend, over real HTTP against the ``sample_backend`` fixture."""
