"""Engines that run a read: `local` (this process, mlmon.api.selection) and `dask` (a cluster)."""
