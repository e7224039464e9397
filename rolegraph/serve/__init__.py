"""`rolegraph serve`: a graph (later also a router) behind an OpenAI-compatible HTTP endpoint.

answerer.py  the interface the server needs ("answer a question, stream the output node") and the
             graph's implementation of it
protocol.py  the OpenAI chat-completions wire format: requests in, completions / chunks / errors out
app.py       the FastAPI app: /v1/models, /v1/chat/completions (plain and SSE), limits, key check
"""
