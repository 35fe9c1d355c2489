"""selftaught.core"""
