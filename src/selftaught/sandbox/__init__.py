"""selftaught.sandbox"""
