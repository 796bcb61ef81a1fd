"""WTForms classes, by area. Every POST form carries a CSRF token (Flask-WTF)."""
