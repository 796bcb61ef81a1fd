"""(being built)"""

from flask import Blueprint

bp = Blueprint("access_requests", __name__)
