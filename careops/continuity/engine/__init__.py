"""Continuity engine (no Django): BIA model, computations, workbook and PCRA documents."""
