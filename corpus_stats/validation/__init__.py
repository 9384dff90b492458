"""Validation against known answers: the reference check (``check``) and the synthetic demo (``demo``)."""
