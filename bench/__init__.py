"""iotcloud benchmarks: each scenario measures our path and its floor in the same run (`python -m bench`)."""
