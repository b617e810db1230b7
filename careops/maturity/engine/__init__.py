"""Maturity engine (no Django): questionnaires as data, scoring, phishing-exercise results."""
