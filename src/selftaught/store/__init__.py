"""selftaught.store"""
