"""HospiConnect: identification means, RPPS and DMP indicators measured from the establishment's data."""
