"""selftaught.tasks"""
