"""Reports of runs: an HTML page with plots, lineage and tables (`build_report`), and the
overview of the runs under a folder (`list_runs`)."""

from selftaught.report.build import build_report
from selftaught.report.model import Prices
from selftaught.report.runs import RunInfo, list_runs, run_status

__all__ = ["Prices", "RunInfo", "build_report", "list_runs", "run_status"]
