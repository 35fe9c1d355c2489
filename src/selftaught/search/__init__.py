"""selftaught.search"""
