"""Pure Python process rules: the state-machine engine (engine), each process's machine
(agreement, …), the business-day calendar (calendar) and the machine drawing (diagram).

Nothing here imports Flask, SQLAlchemy or portal/: given the same state, facts and clock,
every answer is the same, so the rules can be tested on their own.
"""
