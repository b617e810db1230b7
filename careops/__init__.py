"""careops: the CaRE Axe 4 operational-security platform."""

__version__ = "0.1.0"
