"""Training data for network scenarios: the synthetic sets and CSV tables.

The bottom floor beside the engine: it imports only NumPy and the standard
library, so the scenario loader (to check a CSV's columns) and the simulation
(to build its runs) both use it without importing each other.

    from descent_tui.data.datasets import make_dataset, split
    from descent_tui.data.csv_table import read_csv_table, resolve_data_path
"""
