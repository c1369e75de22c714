"""Pure analytics: functions that take numbers or DataFrames and return results.

No Dash, Flask or database imports here; ETL jobs store the results and pages read them.
"""
