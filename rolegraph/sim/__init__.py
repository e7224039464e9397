"""The simulator, as its own layer on the model contract (`rolegraph.models.types`, `.spec`).

Everything here is simulated: seeded stand-ins for real models (`model`), their calibration to
published accuracies (`calibration`), their words (`text`), and the OpenAI-compatible serve-sim
server with fault injection (`server`, `faults`). Nothing outside this package answers from an
answer key; real backends live in `rolegraph.models`.
"""
