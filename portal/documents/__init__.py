"""Documents: rendering (reportlab), PAdES signing and verification (pyHanko)."""
