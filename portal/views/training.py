"""(being built)"""

from flask import Blueprint

bp = Blueprint("training", __name__)
