"""Jobs that turn silver and gold facts into forecasts, anomalies, attribution, text insights and KPI drivers."""
