"""Awareness: training campaigns (share of staff trained) and phishing exercises (AAP MS)."""
