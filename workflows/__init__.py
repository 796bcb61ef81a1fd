"""Pure Python process rules: the state-machine engine (engine, with the types machines are
declared from in declarations and its wording in wording), each process's machine (agreement,
…), the business-day calendar (calendar) and the machine drawing (diagram, laid out by
diagram_layout).

Nothing here imports Flask, SQLAlchemy or portal/: given the same state, facts and clock,
every answer is the same, so the rules can be tested on their own.
"""
