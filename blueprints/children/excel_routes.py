"""Excel: survey import, list export, template workbook (routes)."""
