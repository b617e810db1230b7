"""Awareness engines without Django: sign-in sheets and staff headcounts (training shares),
GoPhish results exports (phishing rates)."""
