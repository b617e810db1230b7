"""Maturity self-assessment, awareness campaigns and crisis exercises (D1 preparation, AAP MS)."""
