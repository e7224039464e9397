"""rolegraph.tools"""
