"""rolegraph.tasks"""
