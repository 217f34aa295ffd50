"""ACME's Python Vitro 0.8 devices: a server, a board and LAN clients."""
