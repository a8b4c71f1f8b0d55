"""Reads every VENDOR from the simulator with the PyPI `sageintacctsdk` (fylein) SDK.

Usage: check_python_sdk.py ENDPOINT_URL [ENTITY] — prints the number of distinct VENDOR records
read (through an entity-level session when ENTITY is given).

The SDK has no endpoint option; its URL is the private attribute `_ApiBase__api_url`, set
per API object at construction, so the test patches `ApiBase.__init__` before building the
SDK (reference §10.2). `get_all_generator` pages with `query` + offset after a `count()`.
"""

import sys

import sageintacctsdk.apis.api_base as api_base
from sageintacctsdk import SageIntacctSDK

endpoint = sys.argv[1]
entity = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None

_original_init = api_base.ApiBase.__init__


def _init_with_local_endpoint(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self._ApiBase__api_url = endpoint


api_base.ApiBase.__init__ = _init_with_local_endpoint

sdk = SageIntacctSDK(
    sender_id="sim-sender",
    sender_password="sim-sender-password",
    user_id="sim-user",
    company_id="sim-company",
    user_password="sim-user-password",
    entity_id=entity,
)

record_nos = []
for page in sdk.vendors.get_all_generator(fields=["RECORDNO", "VENDORID", "NAME"], order_by_field="RECORDNO", order="ascending"):
    record_nos.extend(row["RECORDNO"] for row in page)

if len(set(record_nos)) != len(record_nos):
    sys.exit(f"duplicate records: {len(record_nos)} rows, {len(set(record_nos))} distinct")
print(len(record_nos))
