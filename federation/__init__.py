"""The federation proof: the gateway as a subgraph behind Hive Gateway (docs/federation.md)."""
