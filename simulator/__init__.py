"""The simulated provincial one-stop system: a separate "external" system (see README.md).

Entry points: ``simulator.testing`` (running_simulator, simulated_dataset), ``simulator.exports``
(export_dossiers), ``simulator.generate`` (generate), ``simulator.cli`` (``cchc simulate``).
Kept import-free so that ``cchc --help`` stays fast.
"""
