"""D3 remote-access engine: inventory, VPN configuration parsers, bastion logs, checks, scores.

Pure Python (no Django): input files in, typed JSON-serialisable results out. The web app
stores inventories and runs and turns results into evidence; ``careops remote-access check``
runs the engine alone.
"""
