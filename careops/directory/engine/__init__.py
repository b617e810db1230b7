"""Active Directory security-audit engine (no Django): dump format, collection, analysis.

Input: a directory dump (see :mod:`.dump`); output: typed, JSON-serialisable results, deterministic
for the same dump and the same reference time ("now" is always a parameter).
"""

from careops.directory.engine.analysis import AnalysisResult, analyze
from careops.directory.engine.dump import Dump, DumpError, load_dump, save_dump

__all__ = ["AnalysisResult", "Dump", "DumpError", "analyze", "load_dump", "save_dump"]
