"""Customer import from billing exports (CSV, XLSX/XLS) and the bulk writer the demo shares."""

from kefu.customers.importing.bulk import (
    CareData,
    CustomerBulkWriter,
    CustomerData,
    MeterData,
    PremiseData,
    WriteCounts,
)
from kefu.customers.importing.parsing import LineError
from kefu.customers.importing.reading import FileProblem
from kefu.customers.importing.service import ImportReport, import_customers

__all__ = [
    "CareData",
    "CustomerBulkWriter",
    "CustomerData",
    "FileProblem",
    "ImportReport",
    "LineError",
    "MeterData",
    "PremiseData",
    "WriteCounts",
    "import_customers",
]
