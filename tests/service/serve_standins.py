"""``cchc serve`` with the stand-in flows (run as a script by the service tests)."""

from __future__ import annotations

import os

from cchc.config import load_settings
from cchc.service.events import ONESTOP_CHANGED
from cchc.service.runtime import run_service
from flows.deployments import FlowRefs, SourcePull

REFS = FlowRefs(
    pulls=(SourcePull("onestop", "service_standin_flows:pull_onestop", ONESTOP_CHANGED),),
    ingest="service_standin_flows:ingest_file",
)

if __name__ == "__main__":
    run_service(load_settings(), REFS, catch_up=os.environ.get("CCHC_TEST_CATCH_UP") == "1")
