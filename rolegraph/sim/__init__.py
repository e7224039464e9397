"""The simulator, as its own layer on the chat-model contract (`rolegraph.chat`: `types`, `spec`).

Everything here is simulated: seeded stand-ins for real models (`model`), their calibration to
published accuracies (`calibration`), their words (`text`), and the OpenAI-compatible serve-sim
server with fault injection (`server`, `faults`). Nothing outside this package answers from an
answer key; real backends live in `rolegraph.models`, which sits above this package (it builds
sim models, places pools in sim worlds), so nothing here imports from `rolegraph.models`.
"""
