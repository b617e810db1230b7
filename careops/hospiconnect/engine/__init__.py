"""HospiConnect engine (no Django): reads DPI, MFA, DMP and RPPS exports, computes the indicators."""
