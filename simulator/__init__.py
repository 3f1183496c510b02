"""The simulated provincial one-stop and e-document systems: a separate "external" system (see README.md).

Entry points: ``simulator.testing`` (running_simulator, simulated_dataset, simulated_documents),
``simulator.exports`` (export_dossiers), ``simulator.doc_exports`` (export_register),
``simulator.generate`` (generate), ``simulator.cli`` (``cchc simulate``).
Kept import-free so that ``cchc --help`` stays fast.
"""
