"""Measuring groundspeed's detectors on labelled crisis datasets (``groundspeed eval``)."""
