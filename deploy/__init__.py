"""Deployment: the loopback cluster (deploy/cluster.py) and the proxies' configurations."""
