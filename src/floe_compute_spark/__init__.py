"""floe_compute_spark: the floe compute plugin on Spark (dbt-spark 1.11).

Cheap to import: pyspark, grpc and dbt are imported only when a method needs them.
"""

from floe_compute_spark.config import SparkConfig
from floe_compute_spark.plugin import SparkComputePlugin

__all__ = ["SparkComputePlugin", "SparkConfig"]
