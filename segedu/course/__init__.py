"""Layer 8, the top: the lesson table, lesson set-up, glossary, exercises, student edition, doctor and CLI.

May import every other layer; nothing in segedu imports it.
"""
